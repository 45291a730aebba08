"""Term trends and the concordance (keyword in context): how often a query occurs, since when,
by whom and in what words. Counted by the engine (search.engine.counting) from the index; the
database is read only for what a page shows: its lines' addresses and paragraphs.

A query here is read as search reads it, in the exact reading; its filters (speaker:, org:,
event:, year:, and the clicked filters of service.Filters) narrow both what is counted and
the text it is divided by.
"""

import re
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.utils.translation import get_language

from speeches import cards, selectors

from .engine import counting
from .engine.query import parse
from .engine.query.syntax import MAX_QUERY_CHARS
from .service import Filters, facet_label, own_searcher, query_plan, speech_ids

MAX_TRENDS = 5
# "Who uses it most": the speakers listed for each term.
TOP_SPEAKERS = 10
CONCORDANCE_PAGE_SIZE = 50
_TERM_SEPARATORS = re.compile(r"[,，]")
NO_FILTERS = Filters()


# -- trends ------------------------------------------------------------------------------------


@dataclass
class Point:
    year: int
    count: int
    addresses: int
    chars: int
    per_10k: float


@dataclass
class Speaker:
    id: str
    name: str
    count: int
    chars: int
    per_10k: float


@dataclass
class TermTrend:
    term: str  # the term as read (its strings, OR, exclusions), without the shared filters
    query: str  # what the search box takes for it, the shared filters included
    total: int = 0
    addresses: int = 0
    years: list = field(default_factory=list)
    speakers: list = field(default_factory=list)


@dataclass
class Trends:
    raw: str
    terms: list = field(default_factory=list)
    filters: str = ""  # the shared filters, in the query syntax
    truncated: bool = False
    dropped: list = field(default_factory=list)  # terms past MAX_TRENDS


def split_terms(raw):
    """(the terms, at most MAX_TRENDS of them; those left out; whether `raw` was cut at
    MAX_QUERY_CHARS). Terms are separated by commas (full or half width)."""
    raw = raw or ""
    text, truncated = raw[:MAX_QUERY_CHARS], len(raw) > MAX_QUERY_CHARS
    terms = [t.strip() for t in _TERM_SEPARATORS.split(text) if t.strip()]
    return terms[:MAX_TRENDS], terms[MAX_TRENDS:], truncated


def trends(*, query, filters=NO_FILTERS):
    """Each term's occurrences by year (with the addresses holding it and the characters of
    that year's text in scope) and its speakers ranked by occurrences per 10,000 characters."""
    terms, dropped, truncated = split_terms(query)
    shared = parse(" ".join(terms))  # the filters typed anywhere apply to every term
    outcome = Trends(raw=query or "", truncated=truncated, dropped=dropped)
    outcome.filters = filter_syntax(shared)
    searcher = own_searcher()
    if searcher is None or not terms:
        return outcome
    scope_plan = query_plan(_only_filters(shared), filters)
    if scope_plan is None:  # a name filter names nobody: nothing in scope
        outcome.terms = [_term_trend(parse(t), shared) for t in terms]
        return outcome
    scope = counting.scope_docs(searcher, scope_plan.matched)
    years = counting.tally(searcher, "year", scope, scope[:0], scope[:0])
    for text in terms:
        parsed = replace(parse(text), **_filters_of(shared))
        trend = _term_trend(parsed, shared)
        outcome.terms.append(trend)
        plan = query_plan(parsed, filters) if parsed.phrases else None
        if plan is None:  # filters alone, or a name nobody has: nothing to count
            trend.years = _points(years)
            continue
        key = (trend.query, filters)
        docs, counts = counting.occurrences(searcher, plan.matched, parsed.phrases, key=key)
        trend.total, trend.addresses = int(counts.sum()), len(docs)
        trend.years = _points(counting.tally(searcher, "year", scope, docs, counts))
        trend.speakers = _speakers(counting.tally(searcher, "speaker", scope, docs, counts))
    return outcome


def _points(tallies):
    points = [Point(int(t.value), t.count, t.addresses, t.chars, t.per_10k) for t in tallies]
    return sorted(points, key=lambda p: p.year)


def _speakers(tallies):
    used = sorted((t for t in tallies if t.count), key=lambda t: (-t.per_10k, -t.count, t.value))
    return [
        Speaker(t.value, facet_label("speaker", t.value), t.count, t.chars, t.per_10k)
        for t in used[:TOP_SPEAKERS]
    ]


def _term_trend(parsed, shared):
    term = term_syntax(parsed)
    return TermTrend(term=term, query=f"{term} {filter_syntax(shared)}".strip())


_FILTER_FIELDS = ("speakers", "orgs", "events", "year_ranges")


def _filters_of(parsed):
    return {name: list(getattr(parsed, name)) for name in _FILTER_FIELDS}


def _only_filters(parsed):
    return replace(parse(""), **_filters_of(parsed))


def term_syntax(parsed):
    """A parsed query's strings in the search syntax: “quoted”, A OR B, -excluded."""

    def written(term):
        return f"“{term.text}”" if term.quoted else term.text

    def excluded(term):  # read as it stands, quoted or not: quotes only where it has spaces
        return f"-“{term.text}”" if " " in term.text else f"-{term.text}"

    groups = [" OR ".join(written(t) for t in group) for group in parsed.groups]
    return " ".join(groups + [excluded(t) for t in parsed.excluded])


def filter_syntax(parsed):
    """A parsed query's filters in the search syntax (speaker:… org:… event:… year:…)."""
    out = []
    for name, values in (
        ("speaker", parsed.speakers),
        ("org", parsed.orgs),
        ("event", parsed.events),
    ):
        out += [f'{name}:"{v}"' if " " in v else f"{name}:{v}" for v in values]
    out += [f"year:{a}" if a == b else f"year:{a}-{b}" for a, b in parsed.year_ranges]
    return " ".join(out)


# -- the concordance ---------------------------------------------------------------------------


@dataclass
class KwicLine:
    speech: object  # the address's card (speeches.cards)
    paragraph: int
    left: str
    match: str
    right: str

    @property
    def url(self):
        return f"{self.speech.get_absolute_url()}#p{self.paragraph}"


@dataclass
class Concordance:
    query: object  # the parsed query
    count: int = 0  # every occurrence
    page: int = 1
    page_size: int = CONCORDANCE_PAGE_SIZE
    sort: str = "date"
    lines: list = field(default_factory=list)

    @property
    def num_pages(self):
        return max(1, -(-self.count // self.page_size))


def concordance(*, query, filters=NO_FILTERS, page=1, sort="date", page_size=None, limit=None):
    """The occurrences of `query` in the bodies of the addresses it finds, `page_size` lines of
    page `page` in the order of `sort` (engine.counting.SORTS); with `limit`, instead, the first
    `limit` lines (an export)."""
    parsed = parse(query)
    sort = sort if sort in counting.SORTS else "date"
    outcome = Concordance(query=parsed, page_size=page_size or CONCORDANCE_PAGE_SIZE, sort=sort)
    searcher = own_searcher()
    pieces = parsed.phrases
    plan = None if searcher is None or not pieces else query_plan(parsed, filters)
    if plan is None:
        return outcome
    key = (parsed.raw, filters)
    docs, counts = counting.occurrences(searcher, plan.matched, pieces, key=key)
    outcome.count = int(counts.sum())
    if limit is None:
        outcome.page = min(max(1, page), outcome.num_pages)
        start = (outcome.page - 1) * outcome.page_size
        end = start + outcome.page_size
    else:
        start, end = 0, limit
    chosen = counting.lines_shown(searcher, docs, counts, pieces, sort, start, end, key=key)
    outcome.lines = _shown(searcher, chosen, pieces)
    return outcome


def _shown(searcher, chosen, pieces, batch=500):
    """The lines as pages show them: the address's card and the context in the stored text's
    own characters, read for these lines only (in batches: an export reads thousands)."""
    shown = []
    for at in range(0, len(chosen), batch):
        part = chosen[at : at + batch]
        docs = sorted({line.doc for line in part})
        ids = dict(zip(docs, speech_ids(searcher, docs), strict=True))
        speeches = cards.published_cards(ids=sorted(set(ids.values())), language=get_language())
        texts = selectors.paragraph_texts(wanted={(ids[line.doc], line.paragraph) for line in part})
        for line in part:
            speech, pk = speeches.get(ids[line.doc]), ids[line.doc]
            text = texts.get((pk, line.paragraph))
            if speech is None or text is None:
                continue  # unpublished or deleted since the last index write
            indexed = counting.paragraph_of(searcher, line)
            left, match, right = counting.in_context(text, line, indexed, pieces)
            shown.append(KwicLine(speech, line.paragraph, left, match, right))
    return shown


def export_limit():
    """How many concordance lines an export holds at most."""
    return settings.ARCHIVE_MAX_RESULTS * 10
