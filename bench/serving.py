"""Requests per second under gunicorn (2 workers) on loopback, driven from a second process."""

import json
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode

from search.tests.ports import children

from . import procs
from .stats import NotAvailable, memory_mb, peak_rss_mb


def _wait_ready(base, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotAvailable(f"gunicorn exited {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/bench/ceiling/", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise NotAvailable("gunicorn did not answer within 60 s")


def _load(urls, *, requests, seconds, concurrency):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            *urls,
            "--requests",
            str(requests),
            "--seconds",
            str(seconds),
            "--concurrency",
            str(concurrency),
        ],
        cwd=procs.ROOT,
        env=procs.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    *,
    speech_pks,
    queries,
    long_tail,
    speech_tail,
    log_path,
    requests=3000,
    seconds=15.0,
    concurrency=4,
):
    """{endpoint: loadgen result} and the peak RSS of the busiest web worker (MB)."""
    port = procs.free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "config.wsgi:application",
            ],
            cwd=procs.ROOT,
            env=procs.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(base, proc)
            endpoints = {
                "ceiling": [base + "/bench/ceiling/"],
                "speech_page": [f"{base}/speeches/{pk}/" for pk in speech_pks],
                "list": [base + "/speeches/"],
                "search_page": [f"{base}/search/?{urlencode({'q': q})}" for q in queries],
            }
            tails = {
                "search_long_tail": [f"{base}/search/?{urlencode({'q': q})}" for q in long_tail],
                "speech_long_tail": [f"{base}/speeches/{pk}/" for pk in speech_tail],
            }
            # Warm every worker (jieba, searcher, templates) before timing.
            for urls in endpoints.values():
                _load(urls, requests=4 * len(urls), seconds=60, concurrency=2)
            results = {
                name: _load(urls, requests=requests, seconds=seconds, concurrency=concurrency)
                for name, urls in endpoints.items()
            }
            # Never warmed, and each sent once: every page is really rendered (a search run,
            # an address not in the page cache), as for most readers of a large archive.
            for name, urls in tails.items():
                if urls:
                    results[name] = _load(
                        urls,
                        requests=min(requests, len(urls)),
                        seconds=seconds,
                        concurrency=concurrency,
                    )
            workers = children(proc.pid)
            worker_rss = max((peak_rss_mb(pid) or 0 for pid in workers), default=None)
            results["worker_memory_mb"] = [memory_mb(pid) for pid in workers]
        finally:
            procs.stop(proc, timeout=30)
    return results, worker_rss
