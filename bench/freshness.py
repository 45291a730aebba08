"""Freshness: from "publish" in the admin to the address appearing in search.

The indexer runs as its own process (`manage.py run_indexer`), exactly as in production;
this process plays the staff member and the reader.
"""

import subprocess
import time
from urllib.parse import urlencode

from . import procs
from .stats import NotAvailable, memory_mb

MARKERS = ["驫鱻麤甲", "驫鱻麤乙", "驫鱻麤丙", "驫鱻麤丁", "驫鱻麤戊"]


def _queue_length():
    from search.models import IndexTask

    return IndexTask.objects.count()


def _wait_for_empty_queue(proc, timeout):
    deadline = time.monotonic() + timeout
    while _queue_length():
        if proc.poll() is not None:
            raise NotAvailable(f"run_indexer exited {proc.returncode}")
        if time.monotonic() > deadline:
            raise NotAvailable(f"indexer left {_queue_length()} tasks after {timeout} s")
        time.sleep(0.05)


def _found(client, marker, pk):
    response = client.get("/api/v1/search?" + urlencode({"q": marker}))
    if response.status_code != 200:
        return False
    return any(int(r.get("id", 0)) == pk for r in response.json().get("results", []))


def measure(log_path, trials=3, timeout=30.0, backlog_timeout=600.0):
    """Returns (list of seconds, the indexer's memory_mb())."""
    from django.contrib.auth import get_user_model
    from django.core.management import get_commands
    from django.test import Client

    if "run_indexer" not in get_commands():
        raise NotAvailable("manage.py run_indexer does not exist yet")
    if not hasattr(__import__("speeches.services").services, "import_transcript"):
        raise NotAvailable("speeches.services.import_transcript does not exist yet")

    user = get_user_model().objects.create_superuser("bench", "bench@example.invalid", "x")
    client = Client()
    client.force_login(user)
    with open(log_path, "wb") as log:
        proc = procs.manage("run_indexer", stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_empty_queue(proc, backlog_timeout)
            times = [_trial(client, proc, marker, timeout) for marker in MARKERS[:trials]]
            rss = memory_mb(proc.pid)
        finally:
            procs.stop(proc, timeout=20)
    return times, rss


def _trial(client, proc, marker, timeout):
    from speeches.models import SpeechStatus
    from speeches.services import import_transcript

    body = f"新鲜度测试稿\n\n本段含有标记{marker}，只为检验保存后多久可以检索到。\n"
    result = import_transcript(
        data=body.encode("utf-8"), filename=f"fresh-{marker}.txt", status=SpeechStatus.DRAFT
    )
    pk = result.speech.pk
    _wait_for_empty_queue(proc, 60)
    start = time.perf_counter()
    response = client.post(
        "/admin/speeches/speech/", {"action": "publish", "_selected_action": [str(pk)]}
    )
    if response.status_code not in (200, 302):
        raise NotAvailable(f"admin publish action answered {response.status_code}")
    while not _found(client, marker, pk):
        if time.perf_counter() - start > timeout:
            raise NotAvailable(f"address {pk} not searchable {timeout} s after publishing")
        if proc.poll() is not None:
            raise NotAvailable(f"run_indexer exited {proc.returncode}")
        time.sleep(0.02)
    return time.perf_counter() - start
