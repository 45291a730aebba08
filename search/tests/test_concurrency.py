"""Several processes write while one searches and one indexes; the index ends equal to the DB.

Runs real processes against a database they can all open: a fresh SQLite file, or, when the
suite runs on PostgreSQL, the live test database.
"""

import json

from .processes import (
    check_index,
    queue_length,
    run,
    run_expect_fail,
    start,
    stop,
    wait_until,
)

WRITERS, ROUNDS = 3, 25


def test_index_ends_equal_to_database(env):
    indexer = start(env, "manage.py", "run_indexer")
    try:
        writers = [
            start(env, "-m", "search.tests.churn", "write", str(w), str(ROUNDS))
            for w in range(WRITERS)
        ]
        searcher = start(env, "-m", "search.tests.churn", "search", "40")
        run(env, "manage.py", "rebuild_search_index", "-v0")
        for proc in [*writers, searcher]:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err.decode()
        second = run_expect_fail(env, "manage.py", "run_indexer", "--once")
        assert "另一个索引进程正在运行" in second
        wait_until(lambda: queue_length(env) == 0, what="the indexer to drain the queue")
    finally:
        err = stop(indexer, timeout=60)
    assert "LockError" not in err and "Traceback" not in err
    report, consistent = check_index(env)
    assert consistent, report
    state = json.loads(run(env, "-m", "search.tests.churn", "report").stdout)
    assert state["published"] and state["found"] == state["published"]
