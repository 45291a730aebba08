"""Search latency (results page, API, FTS5) and substring recall (ours and FTS5's)."""

import random
import re
import time
from urllib.parse import urlencode

from . import tokens
from .stats import NotAvailable, summary_ms

_ADDRESS_LINK = re.compile(r'href="/speeches/\d+/')


def _timed_get(client, url):
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    return response, elapsed


def check_page(client):
    """Refuse to time a page that lists no address: that would time a placeholder."""
    response = client.get("/search/?" + urlencode({"q": "发展"}))
    if response.status_code != 200:
        raise NotAvailable(f"/search/ answered {response.status_code}")
    if not _ADDRESS_LINK.search(response.content.decode("utf-8", "replace")):
        raise NotAvailable("/search/?q=发展 lists no address (search page not wired yet?)")


def check_api(client):
    response = client.get("/api/v1/search?" + urlencode({"q": "发展"}))
    if response.status_code != 200:
        raise NotAvailable(f"/api/v1/search answered {response.status_code}")
    data = response.json()
    if not data.get("results"):
        raise NotAvailable("/api/v1/search?q=发展 returned no results")


def forget_results():
    """Empty the search app's result caches, so that a request does the search itself.

    Repeating nine queries would otherwise time a cache hit, not a search: FTS5 caches no
    results, and most real queries are not repeats. The OS page cache, compiled patterns and
    the posting lists of recently searched words stay warm, as they would in a web worker
    that has served a few searches.
    """
    from django.core.cache import caches

    for alias in caches:
        caches[alias].clear()
    try:
        from search.engine.cache import cache
    except ImportError:
        return
    cache.forget("outcome")


def forget_everything():
    """forget_results(), and the decoded posting lists and documents too: every word and
    every hit's text and speech id decoded afresh."""
    forget_results()
    try:
        from search.engine.cache import cache
    except ImportError:
        return
    cache.forget("postings")
    cache.forget("layout")
    cache.forget("stored")


def forget_counts():
    """forget_everything(), and every count of trends and the concordance: what a term costs
    the first time it is asked in this index generation, the columns loaded (as Lucene keeps
    a searcher's doc values open)."""
    forget_everything()
    try:
        from search.engine.cache import cache
    except ImportError:
        return
    cache.forget("research")


def forget_all():
    """Every cache of search emptied: as a worker's first request after the index changed."""
    forget_results()
    try:
        from search.engine.cache import cache
    except ImportError:
        return
    cache.clear()


def fts5_count_timer(fts):
    def timed(q):
        start = time.perf_counter()
        fts.count(q)
        return time.perf_counter() - start

    return timed


def latency_side_by_side(mix, reps, timers):
    """The latency of each of `timers` ({name: function timing one query}) over the mix:
    each query once to warm up, then `reps` rounds in which each query is timed by every
    timer in turn. Interleaved, the slow and fast spells of this shared machine fall on all
    of them alike, so their ratios compare the same moments."""
    for _label, q in mix:
        for timed in timers.values():
            timed(q)
    per_query = {name: {label: [] for label, _ in mix} for name in timers}
    for _ in range(reps):
        for label, q in mix:
            for name, timed in timers.items():
                per_query[name][label].append(timed(q))
    return {name: _summaries(found) for name, found in per_query.items()}


def latency_http(client, path, mix, reps, *, forget=forget_results):
    """latency_side_by_side() of one page alone."""
    return latency_side_by_side(mix, reps, {path: http_timer(client, path, forget=forget)})[path]


def http_timer(client, path, *, forget=forget_results, extra=None):
    """Seconds for `path`?q=… (and the parameters `extra`); forget: called before each
    request (None: repeats are hits)."""

    def timed(q):
        if forget is not None:
            forget()
        response, elapsed = _timed_get(client, path + "?" + urlencode({"q": q} | (extra or {})))
        if response.status_code != 200:
            raise NotAvailable(f"{path}?q={q} answered {response.status_code}")
        return elapsed

    return timed


def fts5_timer(fts):
    def timed(q):
        start = time.perf_counter()
        fts.search(q)
        return time.perf_counter() - start

    return timed


def _summaries(per_query):
    overall = [x for xs in per_query.values() for x in xs]
    return {"all": summary_ms(overall)} | {k: summary_ms(v) for k, v in per_query.items()}


def hit_counts(client, fts, mix):
    """How many addresses each query finds, ours and FTS5's: a sanity check printed with the table."""
    out = {}
    for label, q in mix:
        ours = None
        try:
            response = client.get("/api/v1/search?" + urlencode({"q": q}))
            if response.status_code == 200:
                ours = response.json().get("count")
        except ValueError:
            pass
        out[label] = {"query": q, "ours": ours, "fts5": fts.count(q)}
    return out


# -- recall --------------------------------------------------------------------------------


def draw_substrings(paragraphs_by_pk, count, seed=5):
    """(substring, pk): 1 to 8 CJK characters from a random paragraph of a random address."""
    rng = random.Random(seed)
    pks = sorted(pk for pk, paras in paragraphs_by_pk.items() if paras)
    out = []
    while len(out) < count and pks:
        pk = rng.choice(pks)
        para = rng.choice(paragraphs_by_pk[pk])
        runs = [m.group() for m in tokens.CJK.finditer(para)]
        if not runs:
            continue
        run = rng.choice(runs)
        length = min(len(run), rng.randint(1, 8))
        start = rng.randint(0, len(run) - length)
        out.append((run[start : start + length], pk))
    return out


def our_contains_fn():
    """A function (query, pk) -> bool: whether the results page finds address pk for query."""
    try:
        from search.service import matching_ids
    except ImportError as error:
        raise NotAvailable(f"search.service: {error}") from error

    return lambda q, pk: pk in matching_ids(q, among=[pk])


def recall(samples, contains):
    misses = [(q, pk) for q, pk in samples if not contains(q, pk)]
    return 1 - len(misses) / len(samples), misses
