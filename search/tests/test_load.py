"""A minute of readers against gunicorn while imports add addresses and the indexer follows.

Several clients on loopback drive searches, address pages and the API against gunicorn with
2 workers, while `import_transcripts` adds corpus addresses, published, and `run_indexer`
indexes them. Afterwards: no request failed, every address is found over HTTP by a phrase
only it contains, and check_search_index finds the index equal to the database.

ARCHIVE_LOAD_SECONDS sets the duration (default 60); the request and error counts are
printed (pytest -s) and listed in the terminal summary.
"""

import csv
import http.client
import json
import os
import random
import re
import threading
import time
from collections import Counter
from urllib.parse import quote, urlencode, urlsplit

import pytest

from .processes import (
    check_index,
    created_ids,
    gunicorn,
    import_files,
    production,
    queue_length,
    run,
    running,
    stop,
    wait_until,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

SECONDS = float(os.environ.get("ARCHIVE_LOAD_SECONDS", "60"))
CLIENTS = 6
FIRST = 20  # addresses there before the load; the others are imported during it
BATCH = 2  # files per import_transcripts run
PHRASE = 12
CJK_RUN = re.compile(rf"[\u4e00-\u9fff]{{{PHRASE},}}")


class _Summary:
    """Lines for the end of the pytest run, after the -q dots."""

    def __init__(self):
        self.lines = []

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "load test")
        for line in self.lines:
            terminalreporter.write_line(line)


@pytest.fixture
def load_summary(request):
    plugins = request.config.pluginmanager
    summary = plugins.get_plugin("archive-load-summary")
    if summary is None:
        summary = _Summary()
        plugins.register(summary, "archive-load-summary")
    return summary.lines


class Importer(threading.Thread):
    """Imports the files a few at a time, as staff uploading through the day would."""

    def __init__(self, env, files, metadata, *, created):
        super().__init__(daemon=True)
        self.env, self.pending, self.metadata = env, list(files), metadata
        self.created, self.failures = created, []
        self.stopping = threading.Event()

    def run(self):
        while self.pending and not self.stopping.is_set():
            batch, self.pending = self.pending[:BATCH], self.pending[BATCH:]
            proc = import_files(self.env, batch, self.metadata, check=False)
            if proc.returncode:
                self.failures.append(proc.stderr[-2000:])
                return
            self.created.extend(created_ids(proc.stdout.splitlines()))
            self.stopping.wait(1.0)

    def finish(self):
        """Let the import under way complete; start no other."""
        self.stopping.set()
        self.join()


class Readers:
    """CLIENTS threads, each with one keep-alive connection, until the deadline."""

    def __init__(self, base, *, pks, queries):
        self.host, self.port = urlsplit(base).hostname, urlsplit(base).port
        self.pks, self.queries = pks, queries
        self.statuses, self.failures = Counter(), []
        self.lock = threading.Lock()

    def run(self, seconds):
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._client, args=(n, deadline)) for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _client(self, seed, deadline):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        while time.monotonic() < deadline:
            path = self._pick(rng)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                status = type(error).__name__
            with self.lock:
                self.statuses[status] += 1
                if status != 200 and len(self.failures) < 20:
                    self.failures.append(f"{status} {path}")
        conn.close()

    def _pick(self, rng):
        q, pk, roll = rng.choice(self.queries), rng.choice(self.pks), rng.random()
        if roll < 0.3:
            return "/search/?" + urlencode({"q": q, "page": rng.choice("112")})
        if roll < 0.45:
            return "/api/v1/search?" + urlencode(
                {"q": q, "sort": rng.choice(["relevance", "date"])}
            )
        if roll < 0.7:
            return f"/speeches/{pk}/"
        if roll < 0.8:
            return f"/api/v1/speeches/{pk}"
        if roll < 0.9:
            return f"/api/v1/speeches?page={rng.choice('123')}"
        return rng.choice(["/", "/speeches/", "/people/", "/events/"])

    @property
    def requests(self):
        return sum(self.statuses.values())

    @property
    def errors(self):
        """Server errors and requests that got no answer at all."""
        return sum(n for s, n in self.statuses.items() if not isinstance(s, int) or s >= 500)


def test_site_under_load_while_imports_and_the_indexer_run(env, corpus, tmp_path, load_summary):
    _folder, files, metadata = corpus
    first = import_files(env, files[:FIRST], metadata)
    # One list: readers visit new addresses too, as the importer adds their ids.
    addresses = created_ids(first.stdout.splitlines())
    run(env, "manage.py", "run_indexer", "--once")
    web = production(env)

    with (
        gunicorn(web, log_path=tmp_path / "gunicorn.log") as server,
        running(env, "manage.py", "run_indexer") as indexer,
    ):
        importer = Importer(env, files[FIRST:], metadata, created=addresses)
        readers = Readers(server.base, pks=addresses, queries=_queries(corpus.folder.parent))
        importer.start()
        started = time.monotonic()
        readers.run(SECONDS)
        elapsed = time.monotonic() - started
        importer.finish()
        wait_until(lambda: queue_length(env) == 0, what="the indexer to catch up")
        unfound = _not_found_by_their_phrase(server, addresses)
        indexer_err = stop(indexer)

    summary = (
        f"load: {readers.requests} requests in {elapsed:.0f} s from {CLIENTS} clients, "
        f"{readers.errors} errors (5xx or no answer); {len(addresses) - FIRST} addresses "
        f"imported meanwhile; statuses {dict(readers.statuses)}"
    )
    print("\n" + summary)
    load_summary.append(summary)
    assert readers.errors == 0, f"{summary}; first failures: {readers.failures}"
    assert set(readers.statuses) == {200}, f"{summary}; first failures: {readers.failures}"
    assert not importer.failures, importer.failures
    assert len(addresses) > FIRST, f"no import finished during the load: {summary}"
    assert not unfound, f"not found by a phrase only they contain: {unfound}"
    assert "Traceback" not in indexer_err, indexer_err
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    report, consistent = check_index(env)
    assert consistent, report


def _queries(corpus_dir):
    with open(corpus_dir / "relevance_seeds.tsv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    return [row[0] for row in rows] + ["“政府工作报告”", "经济 发展", "speaker:周恩来 工业"]


def _not_found_by_their_phrase(server, pks):
    """{pk: phrase} of each address the search API does not find by a phrase unique to it."""
    texts = {}
    for pk in pks:
        status, _, body = server.get(f"/api/v1/speeches/{pk}")
        assert status == 200, (pk, status)
        texts[pk] = json.loads(body)["paragraphs"]
    joined = {pk: "\n".join(paragraphs) for pk, paragraphs in texts.items()}
    unfound = {}
    for pk, paragraphs in texts.items():
        phrase = _unique_phrase(paragraphs, [t for other, t in joined.items() if other != pk])
        assert phrase, f"address {pk} has no {PHRASE}-character phrase of its own"
        status, _, body = server.get("/api/v1/search?q=" + quote(f'"{phrase}"'))
        assert status == 200, (phrase, status)
        if pk not in [hit["id"] for hit in json.loads(body)["results"]]:
            unfound[pk] = phrase
    return unfound


def _unique_phrase(paragraphs, others):
    for paragraph in paragraphs:
        for chars in CJK_RUN.findall(paragraph):
            for start in range(0, len(chars) - PHRASE + 1, PHRASE):
                phrase = chars[start : start + PHRASE]
                if not any(phrase in other for other in others):
                    return phrase
    return None
