"""SIGKILL in the middle of an import, a rebuild and a drain: nothing committed is lost, nothing
half-written shows, and check_search_index finds and repairs what the index missed.

SIGKILL runs no handler and no cleanup, like a power cut or the OOM killer. Every kill waits
for a moment the test can see from outside (an open write transaction, a progress line, the
index writer's lock), so each run hits the phase it names, on SQLite and on PostgreSQL.
"""

import re

import pytest

from .processes import (
    Lines,
    alive,
    check_index,
    children,
    created_ids,
    import_files,
    index_writer_busy,
    kill,
    kill_pid,
    queue_length,
    role,
    running,
    start,
    stop,
    wait_until,
    writer_in_transaction,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _kill_in_a_transaction(env, proc):
    """Kill at the first moment the import is seen holding an uncommitted write."""
    wait_until(
        lambda: writer_in_transaction(env) or proc.poll() is not None,
        what="a write transaction",
        interval=0.001,
    )
    kill(proc)


# (addresses this run commits before the kill, whether to wait for the next transaction):
# inside the first transaction, inside a later one, just after a commit (reading, parsing and
# storing the next file), inside a transaction again.
PHASES = [(0, True), (1, True), (1, False), (2, True)]


def test_killed_imports_lose_nothing_committed_and_show_nothing_half_written(env, corpus):
    folder, files, metadata = corpus
    files = files[:12]
    state = role(env, "state", folder)
    for committed_first, in_transaction in PHASES:
        proc = import_files(env, files, metadata, background=True)
        out = Lines(proc.stdout)
        out.wait_for(
            lambda lines, n=committed_first: len(created_ids(lines)) >= n or "共" in "".join(lines),
            what=f"{committed_first} new addresses",
        )
        if in_transaction:
            _kill_in_a_transaction(env, proc)
        else:
            kill(proc)
        out.wait_closed()
        assert proc.returncode == -9, "the import finished before it could be killed"
        before, state = state, role(env, "state", folder)
        _assert_nothing_lost(before, state, reported=created_ids(out.lines))
        _assert_nothing_half_written(state)

    finished = import_files(env, files, metadata)
    before, state = state, role(env, "state", folder)
    _assert_nothing_lost(before, state, reported=created_ids(finished.stdout.splitlines()))
    _assert_nothing_half_written(state)
    assert sorted(s["name"] for s in state["sources"].values()) == [f.name for f in files]
    assert len(state["speeches"]) == len(files)

    # No indexer ran: every address is missing from the index until the repair.
    _assert_missing_then_repaired(env, len(files))


def _assert_missing_then_repaired(env, count):
    report, consistent = check_index(env)
    assert not consistent and f"索引缺少 {count} 篇" in report, report
    report, _ = check_index(env, "--repair")
    assert f"已修复 {count} 处差异" in report, report
    report, consistent = check_index(env)
    assert consistent, report


def _assert_nothing_lost(before, after, *, reported):
    for pk, speech in before["speeches"].items():
        assert after["speeches"].get(pk) == speech, f"speech {pk} changed or vanished"
    for sha, source in before["sources"].items():
        assert after["sources"].get(sha) == source, f"source file {source['name']} changed"
    missing = {str(pk) for pk in reported} - set(after["speeches"])
    assert not missing, f"the import reported {sorted(missing)} saved, they are gone"


def _assert_nothing_half_written(state):
    for pk, speech in state["speeches"].items():
        assert speech["numbered"] and speech["complete"], f"speech {pk} is half written"
        assert len(speech["sources"]) == 1, f"speech {pk} has sources {speech['sources']}"
    for source in state["sources"].values():
        assert source["byte_equal"], f"the original of {source['name']} is not byte-equal"
    assert not any(state["orphans"].values()), state["orphans"]


def test_killed_rebuild_and_indexer_leave_no_lock_and_repairable_drift(env, corpus):
    folder, files, metadata = corpus
    import_files(env, [folder], metadata)
    total = len(files)

    # SIGKILL does not reach a process's children: the workers must end by themselves, or
    # their inherited lock files would block every later writer.
    rebuild = start(env, "manage.py", "rebuild_search_index", "--workers", "2")
    progress = Lines(rebuild.stderr)
    partial = re.compile(rf"\b([1-9]\d*)/{total}\b")
    progress.wait_for(
        lambda lines: any(0 < int(m[1]) < total for line in lines for m in partial.finditer(line)),
        what="some speeches done",
    )
    helpers = children(rebuild.pid)
    kill(rebuild)
    try:
        assert helpers, "the rebuild should have forked its workers"
        wait_until(lambda: not any(alive(pid) for pid in helpers), what="the pool to end")
    finally:
        for pid in helpers:
            kill_pid(pid)
    # The last commit of the index was empty, so the rebuild's half is nowhere.
    _assert_missing_then_repaired(env, total)

    # The indexer, killed while it writes: its changes are queued still, the index is stale.
    touched = sorted(map(int, role(env, "state", folder)["speeches"]))[:15]
    role(env, "touch", *touched)
    indexer = start(env, "manage.py", "run_indexer")
    wait_until(
        lambda: index_writer_busy(env) or indexer.poll() is not None,
        what="the indexer to write",
        interval=0.005,
    )
    kill(indexer)
    assert indexer.returncode == -9
    report, consistent = check_index(env)
    assert not consistent and "索引过期" in report, report
    assert queue_length(env) > 0

    with running(env, "manage.py", "run_indexer") as restarted:
        wait_until(lambda: queue_length(env) == 0, what="the restarted indexer to drain")
        err = stop(restarted)
    assert "Traceback" not in err, err
    report, consistent = check_index(env)
    assert consistent, report
