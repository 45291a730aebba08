"""gunicorn while its database goes away and comes back: 503 pages, then the site again.

PostgreSQL: a loopback proxy between gunicorn and the server is cut, which breaks the
workers' persistent connections (CONN_MAX_AGE) mid-life, and restored. SQLite: the database's
directory is moved away and back; a file an SQLite connection has open stays readable after a
move, so the workers are restarted while it is away, as after a deploy.
speeches/tests/test_database_down.py checks the 503 responses in detail.
"""

import json
import os
from urllib.parse import quote

import pytest
from django.db import connection

from .processes import (
    TcpProxy,
    gunicorn,
    production,
    run,
    sqlite_path,
)

pytestmark = pytest.mark.slow

WORKERS = 2
URLS = ["/", "/speeches/{pk}/", "/search/?q={q}", "/api/v1/search?q={q}", "/api/v1/speeches/{pk}"]
# Each phase searches words of its own: a search answered before is served from memory.
QUERIES = {"up": "轴承", "down": "新质生产力", "back": "十四五"}
ROUNDS = 4


@pytest.fixture
def env(env):
    run(env, "manage.py", "loaddata", "seed", "-v0")
    run(env, "manage.py", "run_indexer", "--once")
    return env


class Outage:
    def __init__(self, env):
        self.database = sqlite_path(env)
        if self.database:
            self.url, self.proxy = env["DATABASE_URL"], None
            self.away = self.database.parent.with_name("moved-away")
            return
        db = connection.settings_dict
        self.proxy = TcpProxy(db["HOST"] or "localhost", db["PORT"] or 5432)
        self.url = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@127.0.0.1:{self.proxy.port}/{db['NAME']}"
        )

    def cut(self, server):
        if self.proxy:
            self.proxy.cut()
            return
        os.rename(self.database.parent, self.away)
        server.restart_workers()

    def restore(self):
        if self.proxy:
            self.proxy.restore()
        else:
            os.rename(self.away, self.database.parent)

    def close(self):
        if self.proxy:
            self.proxy.close()


def _round(server, *, pk, phase):
    return {url: server.get(url.format(pk=pk, q=quote(QUERIES[phase]))) for url in URLS}


def test_503_while_the_database_is_away_then_the_site_again(env, tmp_path):
    outage = Outage(env)
    web = production({**env, "DATABASE_URL": outage.url})
    try:
        with gunicorn(web, log_path=tmp_path / "gunicorn.log", workers=WORKERS) as server:
            status, _, body = server.get("/api/v1/speeches")
            assert status == 200, body
            pk = json.loads(body)["results"][0]["id"]
            for _ in range(ROUNDS):
                for url, (status, _, _) in _round(server, pk=pk, phase="up").items():
                    assert status == 200, url

            outage.cut(server)
            for _ in range(ROUNDS):
                for url, answer in _round(server, pk=pk, phase="down").items():
                    _assert_unavailable(url, *answer)

            outage.restore()
            # A worker that served nobody during the outage still holds its dead connection:
            # its first query fails, and the request's end closes it. At most once a worker.
            rounds = [_round(server, pk=pk, phase="back") for _ in range(ROUNDS + 2)]
    finally:
        outage.close()
    failed = [(url, status) for r in rounds for url, (status, _, _) in r.items() if status != 200]
    assert len(failed) <= WORKERS and {s for _, s in failed} <= {503}, failed
    assert all(status == 200 for status, _, _ in rounds[-1].values()), rounds[-1]
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def _assert_unavailable(url, status, headers, body):
    text = body.decode()
    assert status == 503, (url, status, text[:300])
    assert headers["Retry-After"] == "30", url
    if url.startswith("/api/"):
        assert json.loads(text)["detail"] == "数据库暂时无法访问，请稍后再试。"
    else:
        assert "<h1>服务暂时不可用</h1>" in text, url
        # The security headers still wrap the outage page.
        assert "Content-Security-Policy" in headers, url
