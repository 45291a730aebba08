"""The one way into search for pages, the API, feeds and research features.

`search(query=…, filters=…, page=…)` parses what the reader typed, resolves names to ids,
asks the engine (search.engine) for the matches, and returns an Outcome: hits with their
speeches and snippets, facet counts with labels, and suggestions when nothing matched.
Presenting it (HTML context, JSON) is search.presenters' job.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import get_language

from config.security import max_pages
from speeches import cards, pages, selectors
from speeches.models import SpeechKind

from . import names, other_engines, synonyms
from .connection import backend, own_engine
from .documents import searchable_names
from .engine.analysis import jieba_words
from .engine.cache import cache
from .engine.collect import SORTS, collect, facet_counts
from .engine.evaluation import Evaluation, as_docs
from .engine.query import build_plan, parse
from .engine.query.build import like_plan
from .engine.query.syntax import MATCHES
from .engine.snippets import (
    best_snippets,
    choose_and_count,
    count_in_paragraphs,
    indexed_layout,
    snippets_of,
)
from .engine.store import FOLDED, coded_column, document_texts, stored_numbers

log = logging.getLogger(__name__)

FACETS = ("year", "kind", "speaker", "organization", "event")
__all__ = [
    "FACETS",
    "MATCHES",
    "SORTS",
    "Filters",
    "Outcome",
    "matching_ids",
    "query_plan",
    "search",
]


@dataclass(frozen=True)
class Filters:
    """Facet values the reader clicked, as index values (strings)."""

    year: str = ""
    kind: str = ""
    speaker: str = ""
    organization: str = ""
    event: str = ""

    @classmethod
    def from_params(cls, params):
        def digits(name):
            value = str(params.get(name, ""))
            return value if value.isdigit() and len(value) < 10 else ""

        kind = params.get("kind", "")
        return cls(
            year=digits("year"),
            kind=kind if kind in SpeechKind.values else "",
            speaker=digits("speaker"),
            organization=digits("organization"),
            event=digits("event"),
        )

    def items(self):
        return [(name, getattr(self, name)) for name in FACETS if getattr(self, name)]


@dataclass
class Hit:
    speech: object
    score: float
    snippets: list = field(default_factory=list)
    url: str = ""
    # Places in the body where the query is marked (engine.snippets.choose_and_count).
    occurrences: int = 0


@dataclass
class Outcome:
    query: object
    count: int = 0
    page: int = 1
    page_size: int = 20
    hits: list = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    suggestions: list = field(default_factory=list)
    # The exact reading found nothing and this is the words reading, used in its place.
    fallback: bool = False
    # How many more addresses the words reading finds than the exact one (None: not asked).
    broader: int | None = None
    # People, organizations and events the query spells in pinyin (zhouyu → 周宇).
    names: list = field(default_factory=list)

    @property
    def num_pages(self):
        return max(1, -(-self.count // self.page_size))


def uses_own_engine():
    """Whether settings name the archive's own engine, not another haystack engine (which
    search.other_engines asks instead)."""
    return own_engine(backend())


def own_searcher():
    """The archive's own engine's searcher, or None: no index yet, or another engine."""
    return backend().searcher() if uses_own_engine() else None


def search(
    *,
    query,
    filters=Filters(),
    page=1,
    sort="relevance",
    page_size=None,
    facets=True,
    everything=False,
    match="exact",
    with_synonyms=True,
):
    """The outcome of `query` narrowed by `filters`, read as `match` says (syntax.MATCHES). An
    empty query finds nothing (an empty search box), or, with `everything`, every address."""
    page_size = page_size or settings.ARCHIVE_PAGE_SIZE
    page = min(max(1, page), max_pages(page_size))
    if not uses_own_engine():
        return _from_other_engine(
            query=query, filters=filters, page=page, sort=sort, page_size=page_size,
            facets=facets, everything=everything, match=match,
        )  # fmt: skip
    searcher = backend().searcher()
    if searcher is None:
        log.warning("no search index yet: run `manage.py rebuild_search_index`")
        return Outcome(query=parse(query, match=match), page=1, page_size=page_size)
    key = ("outcome", query, match, with_synonyms, page, sort, filters, page_size, facets)
    key += (everything,)
    key += (get_language(),)
    return cache.value(
        searcher,
        key,
        lambda: _search(
            searcher,
            query=query,
            page=page,
            sort=sort,
            filters=filters,
            page_size=page_size,
            facets=facets,
            everything=everything,
            match=match,
            with_synonyms=with_synonyms,
        ),
    )


def _search(
    searcher, *, query, page, sort, filters, page_size, facets, everything, match, with_synonyms
):
    parsed = parse(query, match=match, synonyms=synonyms.of if with_synonyms else None)
    outcome = Outcome(query=parsed, page=page, page_size=page_size)
    if parsed.is_empty and not filters.items() and not everything:
        return outcome
    plan = _plan(parsed, filters)
    if plan is None:
        _suggest(outcome, filters)
        return outcome
    outcome = _collected(searcher, outcome, plan, filters=filters, sort=sort, facets=facets)
    if page == 1:
        outcome.names = selectors.names_by_pinyin(text=parsed.raw)
    if match != "exact" or not _words_may_differ(parsed):
        return outcome
    words = parse(query, match="words")
    if not words.positive_terms:  # punctuation alone has no words to read
        return outcome
    words_plan, evaluation = _plan(words, filters), Evaluation(searcher)
    found = 0 if words_plan is None else len(evaluation.docs(words_plan.matched))
    broader = found - outcome.count
    if outcome.count or not broader:
        outcome.broader = broader
        return outcome
    # Nothing as it stands: the words reading, labelled as such (its matches found above).
    fallback = Outcome(query=words, page=page, page_size=page_size, fallback=True)
    return _collected(
        searcher, fallback, words_plan, filters=filters, sort=sort, facets=facets,
        evaluation=evaluation,
    )  # fmt: skip


def _from_other_engine(*, query, filters, page, sort, page_size, facets, everything, match):
    """The outcome from another haystack engine: its matches, order and facet counts; the
    snippets cut from the database text."""
    outcome = Outcome(query=parse(query, match=match), page=page, page_size=page_size)
    parsed = outcome.query
    if parsed.is_empty and not filters.items() and not everything:
        return outcome
    keywords = _keywords(parsed, filters)
    if keywords is None:
        _suggest(outcome, filters)
        return outcome
    found = other_engines.find(
        parsed=parsed, keywords=keywords, sort=sort, page=page, page_size=page_size,
        facets=FACETS if facets else (),
    )  # fmt: skip
    outcome.count = found.count
    outcome.hits = _database_hits(found.ids, found.scores, parsed.highlight_pieces)
    outcome.facets = _facet_options(found.facets, filters, _labels)
    if not outcome.count:
        _suggest(outcome, filters)
    return outcome


def _words_may_differ(parsed):
    """Whether the words reading could find more: some string is not one jieba word."""
    return any(
        t.phrase and [w for w, _, _ in jieba_words(t.phrase)] != [t.phrase]
        for t in parsed.positive_terms
    )


def _collected(searcher, outcome, plan, *, filters, sort, facets, leave_out=(), evaluation=None):
    parsed, page, page_size = outcome.query, outcome.page, outcome.page_size
    try:
        found = collect(
            searcher, plan, page=page, page_size=page_size, sort=sort, evaluation=evaluation
        )
    except (OSError, ValueError) as exc:
        # A writer may have merged away a segment under an old searcher: reopen next time.
        backend().reset_searcher()
        log.warning("search failed for %r: %s", parsed.raw, exc)
        found = None
    if found is not None:
        outcome.count, outcome.page = len(found.matches), found.page
        outcome.hits = [
            hit
            for hit in _hits(searcher, found.docs, found.scores, parsed)
            if hit.speech.pk not in leave_out
        ]
        if facets:
            outcome.facets = _facets(searcher, found.matches, filters)
    if not outcome.count:
        _suggest(outcome, filters)
    return outcome


def more_like(*, speech_id, page_size=None):
    """The addresses most like this one: BM25 over its most distinctive words (the most
    frequent here, weighted by how rare they are in the archive), itself left out."""
    page_size = page_size or settings.ARCHIVE_PAGE_SIZE
    searcher = own_searcher()
    outcome = Outcome(query=parse(""), page_size=page_size)
    docnum = None if searcher is None else searcher.document_number(django_id=str(speech_id))
    folded = None if docnum is None else document_texts(searcher, FOLDED).text(docnum)
    if not folded:
        return outcome
    plan = like_plan(searcher, folded)
    if plan is None:
        return outcome
    outcome.page_size += 1  # room for the address itself, left out
    found = _collected(
        searcher, outcome, plan, filters=Filters(), sort="relevance", facets=False,
        leave_out={speech_id},
    )  # fmt: skip
    found.count, found.page_size = max(0, found.count - 1), page_size
    found.hits = found.hits[:page_size]
    return found


def matching_ids(query, filters=Filters(), *, among=None, match="exact"):
    """Every matching speech id (of the ids `among`, if given), unranked, as the results page
    finds them: for checks, tests and the benchmark's recall, not for pages."""
    parsed = parse(query, match=match)
    searcher = own_searcher()
    plan = None if parsed.is_empty or searcher is None else _plan(parsed, filters)
    if plan is None:
        return set()
    within = None
    if among is not None:
        numbers = (searcher.document_number(django_id=str(pk)) for pk in among)
        within = as_docs(n for n in numbers if n is not None)
    docnums = Evaluation(searcher).docs(plan.matched, within)
    return set(speech_ids(searcher, docnums.tolist()))


# -- names to ids -----------------------------------------------------------------------------

# The query's name filters: its attribute (syntax) and the index field it narrows.
_NAMED = (("speakers", "speaker"), ("orgs", "organization"), ("events", "event"))


def query_plan(parsed, filters):
    """The engine's plan of a parsed query and the clicked filters, names resolved to ids, or
    None when a name filter names nobody: for what counts what search finds (search.research)."""
    return _plan(parsed, filters)


def _plan(parsed, filters):
    """The engine's plan, or None when a name filter names nobody."""
    keywords = _keywords(parsed, filters)
    return None if keywords is None else build_plan(parsed, keywords=keywords)


def _keywords(parsed, filters):
    """[(index field, [values, any of which])] of the clicked filters and the query's name
    filters resolved to ids (search.names), or None when a name filter names nobody."""
    keywords = [(name, [value]) for name, value in filters.items()]
    for syntax_name, kind in _NAMED:
        alternatives = getattr(parsed, syntax_name)
        if not alternatives:
            continue
        ids = {pk for wanted in alternatives for pk in names.ids_named(kind=kind, wanted=wanted)}
        if not ids:
            return None
        keywords.append((kind, [str(pk) for pk in sorted(ids)]))
    return keywords


# -- turning index hits into page content -------------------------------------------------


def speech_ids(searcher, docnums):
    """The speech id of each of the index's `docnums`."""
    return stored_numbers(searcher, docnums, "django_id")


def _hits(searcher, docnums, scores, parsed):
    ids = speech_ids(searcher, docnums)
    speeches = _cards(ids)
    pieces = parsed.highlight_pieces
    choices, counts = _choices(searcher, docnums, ids, speeches, pieces) if pieces else ({}, {})
    texts = _chosen_texts(choices)
    hits = []
    for pk, score in zip(ids, scores, strict=True):
        speech = speeches.get(pk)
        if speech is None:
            continue  # unpublished or deleted since the last index write
        url = speech.get_absolute_url()
        snippets = None
        if pieces and choices.get(pk) is not None:
            snippets = snippets_of(choices[pk], texts.get(pk, {}), pieces=pieces, url=url)
        if pieces and snippets is None:  # the index is older than the text: cut it afresh
            hits.append(_database_hit(speech, score, pieces))
            continue
        score, count = round(float(score), 4), counts.get(pk) or 0
        hits.append(Hit(speech, score, snippets=snippets or [], url=url, occurrences=count))
    return hits


def _cards(ids):
    # Cards' heads as stored with their pages; rendered live under DEBUG, as pages are.
    release = None if settings.DEBUG else pages.release()
    return cards.published_cards(ids=ids, language=get_language(), release=release)


def _database_hits(ids, scores, pieces):
    speeches = _cards(ids)
    return [
        _database_hit(speeches[pk], score, pieces)
        for pk, score in zip(ids, scores, strict=True)
        if pk in speeches
    ]


def _database_hit(speech, score, pieces):
    """A hit whose snippets are cut from the paragraphs in the database."""
    url = speech.get_absolute_url()
    hit = Hit(speech, round(float(score), 4), url=url)
    if pieces:
        paragraphs = list(speech.paragraphs.values_list("position", "text"))
        hit.snippets = best_snippets(paragraphs=paragraphs, pieces=pieces, url=url)
        hit.occurrences = count_in_paragraphs(paragraphs, pieces)
    return hit


def _choices(searcher, docnums, ids, speeches, pieces):
    """({speech id: the paragraphs chosen for snippets from the index, or None},
    {speech id: how many places of its body are marked (命中 N 处), or None})."""
    choices, counts = {}, {}
    for docnum, pk in zip(docnums, ids, strict=True):
        speech = speeches.get(pk)
        text = None if speech is None else indexed_layout(searcher, docnum)
        if text is not None:
            names = len(searchable_names(speech))
            choices[pk], counts[pk] = choose_and_count(text, names=names, pieces=pieces)
    return choices, counts


def facet_label(name, value):
    """A facet value's label as the facets show it, also where no result has that value."""
    searcher = own_searcher()
    return value if searcher is None else _labels_of(searcher, name).get(value, value)


def _chosen_texts(choices):
    """{speech id: {position: text}} of the chosen paragraphs, in one query."""
    wanted = {(pk, c.position) for pk, chosen in choices.items() for c in chosen or ()}
    texts = {}
    for (pk, position), text in selectors.paragraph_texts(wanted=wanted).items():
        texts.setdefault(pk, {})[position] = text
    return texts


def _facets(searcher, docnums, filters):
    counts = facet_counts(searcher, docnums, FACETS)
    return _facet_options(counts, filters, lambda name, _values: _labels_of(searcher, name))


def _facet_options(counts_by_name, filters, labels_of):
    """{facet: [option]} of {facet: [(value, count)]}; `labels_of(facet, values)` gives
    {value: label}."""
    facets = {}
    for name, counts in counts_by_name.items():
        # (Another engine may hold a missing value as "None".)
        counts = [(str(v), count) for v, count in counts if v not in (None, "", "None")]
        labels = labels_of(name, [value for value, _ in counts])
        options = [
            {
                "value": value,
                "label": labels.get(value, value),
                "count": count,
                "selected": getattr(filters, name) == value,
            }
            for value, count in counts
        ]
        if name == "year":
            options.sort(key=lambda o: o["value"], reverse=True)
        else:
            options.sort(key=lambda o: (-o["count"], o["label"]))
        facets[name] = options
    return facets


def _labels_of(searcher, name):
    """{index value: label} of a facet, for every value in the index, read once per index
    generation (a rename re-indexes the addresses that show the name)."""

    def read():
        return _labels(name, coded_column(searcher, name).values)

    return cache.value(searcher, ("labels", name, get_language()), read)


def _labels(name, values):
    """{value: label} of these values of a facet, read from the database."""
    if name == "kind":
        return {value: str(label) for value, label in SpeechKind.choices}
    if name not in names.NAMED:
        return {}
    pks = [int(v) for v in values if v and v.isdigit()]
    return {str(pk): str(obj) for pk, obj in names.NAMED[name][0].objects.in_bulk(pks).items()}


def _suggest(outcome, filters):
    """Queries that might find something: fewer words, no quotes or filters. (The other
    script is never one: both scripts fold to the same text.)"""
    parsed = outcome.query
    raw = parsed.raw.strip()
    candidates = []
    terms = parsed.positive_terms
    if len(terms) > 1:
        candidates += [("fewer", t.text) for t in terms]
    if any(t.quoted for t in terms):
        candidates.append(("substring", " ".join(p for t in terms for p in t.pieces)))
    if parsed.has_filters or filters.items() or parsed.excluded:
        candidates.append(("unfiltered", " ".join(t.text for t in terms)))
    seen = set()
    for kind, text in candidates:
        if text and text not in seen and text != raw:
            seen.add(text)
            outcome.suggestions.append({"kind": kind, "q": text})
