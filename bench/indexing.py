"""Indexing throughput: the real rebuild against jieba alone on the same text."""

import pickle
import subprocess
import sys
import time

from search.tests.ports import children

from . import procs, tokens
from .stats import NotAvailable, dir_bytes, peak_rss_mb


def jieba_alone(texts, workdir):
    """Tokenize every text in a process of its own, as the rebuild runs in one: this process
    holds the whole imported corpus, whose objects would slow jieba down here (the garbage
    collector walks them). Returns (token lists, seconds of tokenizing alone)."""
    source, result = workdir / "jieba-texts.pickle", workdir / "jieba-tokens.pickle"
    source.write_bytes(pickle.dumps([tokens.fold(t) for t in texts]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench.tokens", str(source), str(result)],
        cwd=procs.ROOT,
        env=procs.env(),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise NotAvailable(f"bench.tokens exited {proc.returncode}: {proc.stderr[-400:]}")
    token_lists, seconds = pickle.loads(result.read_bytes())
    source.unlink()
    result.unlink()
    return token_lists, seconds


def rebuild_command():
    """The search app's own rebuild when it has one, else haystack's."""
    from django.core.management import get_commands

    if "rebuild_search_index" in get_commands():
        return ["rebuild_search_index", "--verbosity", "0"]
    return ["rebuild_index", "--noinput"]


def rebuild(log_path):
    """Run the rebuild command as its own process: (seconds, peak RSS MB of its largest
    process, sampled every 0.1 s from /proc). Not the child's rusage: that counts the pages
    it shared with this process, which holds the whole corpus, before it exec'd."""
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = procs.manage(*rebuild_command(), stdout=log, stderr=subprocess.STDOUT)
        peak = 0
        while True:
            try:
                code = proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                rss = (peak_rss_mb(pid) or 0 for pid in [proc.pid, *children(proc.pid)])
                peak = max(peak, *rss)
        seconds = time.perf_counter() - start
        rss = peak or None
    if code != 0:
        tail = open(log_path, encoding="utf-8", errors="replace").read()[-400:]
        raise NotAvailable(f"rebuild_index exited {code}: {tail.strip()}")
    return seconds, rss


def index_bytes():
    from django.conf import settings

    return dir_bytes(settings.HAYSTACK_CONNECTIONS["default"]["PATH"])


def forget_satisfied_tasks(before_pk):
    """Queue entries from the import that the rebuild already covered; returns how many."""
    try:
        from search.models import IndexTask
    except ImportError:
        return 0
    deleted, _ = IndexTask.objects.filter(pk__lte=before_pk).delete()
    return deleted


def last_task_pk():
    try:
        from search.models import IndexTask
    except ImportError:
        return 0
    last = IndexTask.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0
