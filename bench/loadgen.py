"""A bounded load generator, run as its own process: `python -m bench.loadgen URL... [opts]`.

It cycles through the given URLs from a few threads until it has sent --requests requests or
--seconds have passed, whichever comes first, then prints one JSON line.
"""

import argparse
import http.client
import itertools
import json
import threading
import time
from urllib.parse import urlsplit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    for url in args.urls:
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            parser.error("loopback only")

    urls = itertools.cycle(args.urls)
    lock = threading.Lock()
    latencies, errors, sent = [], [0], [0]
    deadline = time.monotonic() + args.seconds

    def worker():
        while True:
            with lock:
                if sent[0] >= args.requests or time.monotonic() > deadline:
                    return
                sent[0] += 1
                url = urlsplit(next(urls))
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                conn.request("GET", url.path + ("?" + url.query if url.query else ""))
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, int(len(latencies) * q / 100))] * 1000

    print(
        json.dumps(
            {
                "requests": len(latencies),
                "errors": errors[0],
                "seconds": wall,
                "rps": len(latencies) / wall if wall else 0,
                "p50_ms": pct(50) if latencies else None,
                "p95_ms": pct(95) if latencies else None,
            }
        )
    )


if __name__ == "__main__":
    main()
