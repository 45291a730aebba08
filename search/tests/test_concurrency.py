"""Several processes write while one searches and one indexes; the index ends equal to the DB.

Runs real processes against a database they can all open: a fresh SQLite file, or, when the
suite runs on PostgreSQL, the live test database.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

ROOT = settings.BASE_DIR
WRITERS, ROUNDS = 3, 25


def _database_url(tmp_path):
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{tmp_path / 'churn.sqlite3'}", True
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        False,
    )


@pytest.fixture
def env(tmp_path, transactional_db):
    url, needs_migrate = _database_url(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ARCHIVE_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": url,
    }
    if needs_migrate:
        _run(env, "manage.py", "migrate", "-v0")
    return env


def _run(env, *args):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )


def _start(env, *args):
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _queue_empty(env):
    out = _run(
        env,
        "manage.py",
        "shell",
        "-c",
        "from search.models import IndexTask; print(IndexTask.objects.count())",
    )
    return out.stdout.strip().endswith("0")


def test_index_ends_equal_to_database(env):
    indexer = _start(env, "manage.py", "run_indexer")
    try:
        writers = [
            _start(env, "-m", "search.tests.churn", "write", str(w), str(ROUNDS))
            for w in range(WRITERS)
        ]
        searcher = _start(env, "-m", "search.tests.churn", "search", "40")
        rebuild = _run(env, "manage.py", "rebuild_search_index", "-v0")
        for proc in [*writers, searcher]:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err.decode()
        second = _run_expect_fail(env, "manage.py", "run_indexer", "--once")
        assert "另一个索引进程正在运行" in second
        deadline = time.monotonic() + 120
        while not _queue_empty(env):
            assert time.monotonic() < deadline, "the indexer did not drain the queue"
            time.sleep(0.5)
    finally:
        indexer.terminate()
        _, err = indexer.communicate(timeout=60)
    assert b"LockError" not in err and b"Traceback" not in err
    assert rebuild.returncode == 0
    check = _run(env, "manage.py", "check_search_index")
    assert "索引与数据库一致" in check.stdout
    state = json.loads(_run(env, "-m", "search.tests.churn", "report").stdout)
    assert state["published"] and state["found"] == state["published"]


def _run_expect_fail(env, *args):
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    return proc.stderr
