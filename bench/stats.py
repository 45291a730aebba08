"""Small measuring helpers: percentiles, peak RSS, directory sizes, and the n/a convention."""

import os
from pathlib import Path


class NotAvailable(Exception):
    """A step that cannot run yet; the table shows "n/a (not available: <reason>)"."""


def percentile(samples, q):
    if not samples:
        return None
    s = sorted(samples)
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary_ms(samples_s):
    ms = [x * 1000 for x in samples_s]
    return {f"p{q}": percentile(ms, q) for q in (50, 95, 99)} | {"n": len(ms)}


def peak_rss_mb(pid):
    """VmHWM (the peak resident set) of a live process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory_mb(pid):
    """Peak and current resident set of a live process, split into private and file-backed.

    Whoosh maps index files into memory, so part of a searcher's RSS is page cache shared
    by every process that reads the index; RssAnon is what the process alone costs.
    """
    wanted = {"VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"}
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in wanted:
                out[name] = int(rest.split()[0]) / 1024
    except OSError:
        return {}
    return out


def dir_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total
