"""A term added through the admin, seen by gunicorn's two workers and by run_indexer as they run.

Six corpus addresses: four hold 美丽中国, two hold 美丽 and 中国 only apart. Before the change
the words reading (match=words) cuts the query 美丽中国 into 美丽 / 中国 and finds all six; right
after it, every worker (each one asked on a connection it holds) cuts it as one word and finds
the four; the indexer, killed while it re-indexes them, loses nothing, and once restarted it has
indexed exactly the four with the word, ranked by the word's BM25. Every substring finds every
address holding it, throughout.
"""

import json
import socket
from urllib.parse import quote, urlsplit

import pytest

from .processes import (
    check_index,
    gunicorn,
    import_files,
    index_writer_busy,
    kill,
    production,
    queue_length,
    run,
    running,
    socket_owners,
    start,
    stop,
    wait_until,
)
from .test_worker_kill import PASSWORD, STAFF, Page, Staff
from .vocabulary_roles import role

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

TERM = "美丽中国"  # jieba's dictionary cuts it 美丽 / 中国
HOLDING = ("0058.txt", "0067.txt", "0068.txt", "0066.txt")
APART = ("0056.txt", "0057.txt")  # 美丽 and 中国, never together
ADD = "/admin/search/vocabularyterm/add/"


def test_a_term_added_in_the_admin_reaches_every_worker_and_the_indexer(env, corpus, tmp_path):
    import_files(env, [corpus.folder / f for f in HOLDING + APART], corpus.metadata)
    run({**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}, "manage.py", "createsuperuser",
        "--noinput", "--username", STAFF, "--email", "editor@example.org")  # fmt: skip
    holders = role(env, "holders", TERM)
    assert len(holders[TERM]) == len(HOLDING) and len(holders["美丽"]) == len(HOLDING + APART)

    with gunicorn(production(env), log_path=tmp_path / "gunicorn.log") as server:
        with running(env, "manage.py", "run_indexer"):
            wait_until(lambda: queue_length(env) == 0, what="the indexer to index the imports")
        for answer in each_worker(server, TERM):
            assert answer["tokens"] == ["美丽", "中国"]
            assert found(answer) == holders["美丽"]
        before = {hit["id"]: hit["score"] for hit in answer["results"]}
        assert role(env, "word", TERM) == {}

        staff = Staff(server)
        staff.sign_in()
        fields = Page(staff.get(ADD)[2]).form(having="term")
        status, headers, _ = staff.post(ADD, {**fields, "term": TERM, "note": "政府工作报告"})
        assert status == 302, status

        # No indexer runs: the workers know the word at once, the index does not yet.
        assert role(env, "queued") == holders[TERM]
        for answer in each_worker(server, TERM):
            assert answer["tokens"] == [TERM]
            assert found(answer) == holders[TERM]
        assert_substrings_found(server, holders)

        indexer = start(env, "manage.py", "run_indexer")
        wait_until(
            lambda: index_writer_busy(env) or indexer.poll() is not None,
            what="the indexer to write",
            interval=0.005,
        )
        kill(indexer)
        assert role(env, "queued") == holders[TERM], "the killed indexer's work is lost"

        with running(env, "manage.py", "run_indexer") as restarted:
            wait_until(lambda: queue_length(env) == 0, what="the restarted indexer")
            err = stop(restarted)
        assert "Traceback" not in err, err

        # Indexed with the word: exactly the addresses holding it.
        word = role(env, "word", TERM)
        assert sorted(map(int, word)) == holders[TERM] and all(word.values())
        # Ranked by it: the scores are Whoosh's own for the query cut as one word, and none is
        # what it was when the query was cut in two.
        scores = role(env, "scores", TERM)
        for answer in each_worker(server, TERM):
            assert found(answer) == holders[TERM]
            for hit in answer["results"]:
                assert hit["score"] == pytest.approx(scores[str(hit["id"])], abs=1e-4)
                assert hit["score"] != before[hit["id"]]
        assert_substrings_found(server, holders)

    report, consistent = check_index(env)
    assert consistent, report


def found(answer):
    assert answer["count"] == len(answer["results"]), "more than one page"
    return sorted(hit["id"] for hit in answer["results"])


def assert_substrings_found(server, holders):
    for piece, ids in holders.items():
        status, _, body = server.get(f"/api/v1/search?q={quote(piece)}")
        assert status == 200
        assert set(ids) <= set(found(json.loads(body))), piece


def each_worker(server, query):
    """The search API's answer to `query` (words reading) from each of gunicorn's workers: a connection is
    opened for each and sent the request only once each is held by a different worker."""
    port = urlsplit(server.base).port
    workers = server.workers()
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in workers]
    try:

        def owners():
            held = [
                socket_owners(workers, port=port, peer_port=c.getsockname()[1]) for c in connections
            ]
            return [pids[0] for pids in held if len(pids) == 1]

        wait_until(
            lambda: len(set(owners())) == len(workers), what="each worker to hold a connection"
        )
        path = f"/api/v1/search?q={quote(query)}&match=words"
        request = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        for connection in connections:
            connection.sendall(request.encode())
        return [_answer(connection) for connection in connections]
    finally:
        for connection in connections:
            connection.close()


def _answer(connection):
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split()[1] == b"200", head
    return json.loads(body)
