"""Running a parsed query against the index: hits, facets, snippets and suggestions."""

import logging
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils.translation import get_language
from haystack import connections
from whoosh import query as wq

from config.security import max_pages
from speeches import pages, selectors
from speeches.models import Event, Organization, Person, Speech, SpeechKind

from .analysis import GRAM_RUN, fold, jieba_words
from .evaluation import (
    FOLDED,
    WORDS,
    Evaluation,
    PerSearcher,
    RecentPerSearcher,
    Run,
    as_docs,
    document_texts,
)
from .query import parse
from .search_indexes import searchable_names
from .snippets import best_snippets, choose_and_count, count_in_paragraphs, snippets_of

log = logging.getLogger(__name__)

FACETS = ("year", "kind", "speaker", "organization", "event")
# "date" is newest first (the name links and the API have used since the start).
SORTS = ("relevance", "date", "oldest")
# Exact-match clauses decide what matches; jieba tokens (BM25) mostly decide the order.
GRAM_BOOST = 0.3
# Only this many best BM25 matches get the "whole run intact" bonus: it reads their text,
# far too slow at every match of a common word, and it matters on the first pages only.
RERANK = 50
TITLE_BOOST = 2.0


@dataclass(frozen=True)
class Selection:
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
    speech: Speech
    score: float
    snippets: list = field(default_factory=list)
    url: str = ""
    # Places in the body where the query is marked (search.snippets.choose_and_count).
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

    @property
    def num_pages(self):
        return max(1, -(-self.count // self.page_size))


def backend():
    return connections["default"].get_backend()


def search(*, q, page=1, sort="relevance", selection=Selection(), page_size=None, facets=True):
    page_size = page_size or settings.ARCHIVE_PAGE_SIZE
    page = min(max(1, page), max_pages(page_size))
    searcher = backend().searcher()
    if searcher is None:
        log.warning("no search index yet: run `manage.py rebuild_search_index`")
        return Outcome(query=parse(q), page=1, page_size=page_size)
    key = (q, page, sort, selection, page_size, facets)
    outcome = _cache.get(searcher, key)
    if outcome is None:
        outcome = _search(
            searcher,
            q=q,
            page=page,
            sort=sort,
            selection=selection,
            page_size=page_size,
            facets=facets,
        )
        _cache.put(searcher, key, outcome)
    return outcome


# Recent outcomes of this process, dropped whenever the index changes (a new searcher).
_cache = RecentPerSearcher(256)


# Every document's facet values and date, read once per searcher: counting and sorting are then
# array operations over the matches instead of a column read per match and field.
_columns = PerSearcher()


@dataclass
class _Coded:
    """A column's values, numbered: codes[docnum] is the number of its value, 0 for none."""

    codes: np.ndarray
    values: list


def _columns_of(searcher):
    def read():
        readers = [sub.reader() for sub, _offset in searcher.leaf_searchers()]
        columns = {name: _coded(_column(readers, name)) for name in FACETS}
        # No date: None, or the column's default, the largest number. Sorted last, as 0.
        dates = [d if d and d < _NO_DATE else 0 for d in _column(readers, "date")]
        return columns | {"date": np.array(dates, dtype=np.int64)}

    return _columns.get(searcher, "all", read)


_NO_DATE = 2**63


def _column(readers, name):
    """One value per docnum. Segment by segment: a multi-segment reader leaves out the
    segments without the column, which would shift every later document."""
    values = []
    for reader in readers:
        if reader.has_column(name):
            values += reader.column_reader(name, translate=False)
        else:
            values += [None] * reader.doc_count_all()
    return values


def _coded(values):
    numbers = {None: 0, b"": 0}
    codes = [numbers.setdefault(v, len(numbers) - 1) for v in values]
    names = [None] * (max(numbers.values()) + 1)
    for value, number in numbers.items():
        if number:
            names[number] = value.decode()
    return _Coded(np.array(codes, dtype=np.int32), names)


def _search(searcher, *, q, page, sort, selection, page_size, facets):
    parsed = parse(q)
    outcome = Outcome(query=parsed, page=page, page_size=page_size)
    if parsed.is_empty and not selection.items():
        return outcome
    parts = _query_parts(parsed, selection)
    if parts is None:
        _suggest(outcome, selection)
        return outcome
    try:
        matches, docs, ids, scores = _run(searcher, parts, outcome, sort=sort)
    except (OSError, ValueError) as exc:
        # A writer may have merged away a segment under an old searcher: reopen next time.
        backend().reset_searcher()
        log.warning("search failed for %r: %s", parsed.raw, exc)
        matches = None
    if matches is not None:
        outcome.count = len(matches)
        outcome.hits = _hits(searcher, docs, ids, scores, parsed)
        if facets:
            outcome.facets = _facets(searcher, matches, selection)
    if not outcome.count:
        _suggest(outcome, selection)
    return outcome


def matching_ids(q, selection=Selection(), *, among=None):
    """Every matching speech id (of the ids `among`, if given), unranked, as the results page
    finds them: for checks, tests and the benchmark's recall, not for pages."""
    parsed = parse(q)
    parts = None if parsed.is_empty else _query_parts(parsed, selection)
    searcher = backend().searcher()
    if parts is None or searcher is None:
        return set()
    within = None
    if among is not None:
        numbers = (searcher.document_number(django_id=str(pk)) for pk in among)
        within = as_docs(n for n in numbers if n is not None)
    docnums = Evaluation(searcher).docs(parts[0], within)
    return {int(searcher.stored_fields(d)["django_id"]) for d in docnums.tolist()}


def _run(searcher, parts, outcome, *, sort):
    """Every matching docnum, and the page's docnums and speech ids in order, with scores."""
    matched, rank, runs = parts
    index = Evaluation(searcher)
    matches = index.docs(matched)
    outcome.page = max(1, min(outcome.page, -(-len(matches) // outcome.page_size)))
    start, end = (outcome.page - 1) * outcome.page_size, outcome.page * outcome.page_size
    if sort in ("date", "oldest"):
        docs = _by_date(searcher, matches, oldest=sort == "oldest")[max(start, 0) : end].tolist()
        page = np.sort(np.array(docs, dtype=np.int64))
        scores = dict(zip(page.tolist(), index.ranking(matched, rank, page).tolist(), strict=True))
        bonus = _intact_bonus(searcher, runs, docs, index=index)
    else:
        ranking = index.ranking(matched, rank, matches)
        # Whoosh's order: best score first, then lowest docnum.
        best = np.lexsort((matches, -ranking))[: max(end, RERANK)]
        ranked = matches[best].tolist()
        scores = dict(zip(ranked, ranking[best].tolist(), strict=True))
        bonus = _intact_bonus(searcher, runs, ranked[:RERANK], index=index)
        # The bonus for whole runs reorders the best only: the check reads their text.
        head = sorted(ranked[:RERANK], key=lambda d: -(scores[d] + bonus.get(d, 0.0)))
        docs = (head + ranked[RERANK:])[max(start, 0) : end]
    ids = [int(searcher.stored_fields(d)["django_id"]) for d in docs]
    return matches, docs, ids, [scores[d] + bonus.get(d, 0.0) for d in docs]


def _by_date(searcher, matches, *, oldest):
    """The matches newest (or oldest) first, undated ones last either way, then by docnum."""
    dates = _columns_of(searcher)["date"][matches]  # 0: no date
    key = np.where(dates == 0, np.iinfo(np.int64).max, dates) if oldest else -dates
    return matches[np.lexsort((matches, key))]


def _intact_bonus(searcher, runs, docnums, *, index=None):
    """{docnum: what Run(run) (its bigrams' scores, where the run is intact) adds there},
    for each of `docnums` and all of `runs`.

    Checked at those documents only: reading the text of every match of a common word would
    cost far more, and the bonus matters on the first pages only.
    """
    index = index or Evaluation(searcher)
    docs = as_docs(docnums)
    bonus = sum(index.scores(Run(run), docs) for run in runs)
    return dict(zip(docs.tolist(), bonus.tolist(), strict=True)) if runs else {}


# -- building the Whoosh query ------------------------------------------------------------


def exact(piece):
    """A query matching documents whose folded text contains the run `piece` verbatim."""
    if len(piece) == 1:
        return wq.Term("chars", piece, boost=GRAM_BOOST)
    if len(piece) == 2:
        return wq.Term("grams", piece, boost=GRAM_BOOST)
    return Run(piece, boost=GRAM_BOOST)


def _term_query(term):
    parts = [exact(p) for p in term.pieces]
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _rank_query(parsed):
    """(BM25 over jieba tokens or None, the unquoted runs whose intact occurrence ranks higher)."""
    tokens = []
    for term in parsed.positive_terms:
        for piece in term.pieces:
            tokens += [w for w, _, _ in jieba_words(piece)]
    tokens = list(dict.fromkeys(tokens))
    clauses = [wq.Term("text", t) for t in tokens]
    clauses += [wq.Term("title", t, boost=TITLE_BOOST) for t in tokens]
    # Unquoted words were split by jieba; the whole run occurring intact ranks higher.
    runs = ["".join(t.pieces) for t in parsed.positive_terms if not t.quoted and len(t.pieces) > 1]
    return (wq.Or(clauses) if clauses else None), [r for r in runs if GRAM_RUN.fullmatch(r)]


def _scoring(matched, rank):
    return wq.AndMaybe(matched, rank) if rank else matched


def _query_parts(parsed, selection):
    """(what must match, BM25 ranking, runs for the bonus), or None if a filter matches nothing."""
    required = []
    for group in parsed.groups:
        alternatives = [_term_query(t) for t in group]
        required.append(alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives))
    filters = _filters(parsed, selection)
    if filters is None:
        return None
    required += filters
    matched = wq.And(required) if required else wq.Every()
    excluded = [_term_query(t) for t in parsed.excluded]
    if excluded:
        matched = wq.AndNot(matched, wq.Or(excluded))
    return (matched, *_rank_query(parsed))


def _filters(parsed, selection):
    filters = [wq.Term(name, value, boost=0.0) for name, value in selection.items()]
    for name, model, fields in (
        ("speaker", Person, ("name",)),
        ("org", Organization, ("name", "short_name")),
        ("event", Event, ("name", "series")),
    ):
        wanted = getattr(parsed, name)
        if not wanted:
            continue
        ids = ids_named(model, fields, wanted)
        if not ids:
            return None
        index_field = "organization" if name == "org" else name
        filters.append(wq.Or([wq.Term(index_field, str(pk), boost=0.0) for pk in ids]))
    if parsed.years:
        start, end = parsed.years
        filters.append(wq.TermRange("year", f"{start:04d}", f"{end:04d}", boost=0.0))
    return filters


def ids_named(model, fields, wanted):
    """Primary keys of rows where one of `fields` contains every word of `wanted`, folded."""
    words = fold(wanted).split()
    ids = []
    for pk, *values in model.objects.values_list("pk", *fields):
        for value in values:
            folded = fold(value or "")
            if folded and all(w in folded for w in words):
                ids.append(pk)
                break
    return ids


# -- turning index hits into page content -------------------------------------------------


def _hits(searcher, docnums, ids, scores, parsed):
    # Cards' heads as stored with their pages; rendered live under DEBUG, as pages are.
    release = None if settings.DEBUG else pages.release()
    speeches = selectors.published_cards(ids=ids, language=get_language(), release=release)
    pieces = parsed.highlight_pieces
    choices, counts = _choices(searcher, docnums, ids, speeches, pieces) if pieces else ({}, {})
    texts = _chosen_texts(choices)
    hits = []
    for pk, score in zip(ids, scores, strict=True):
        speech = speeches.get(pk)
        if speech is None:
            continue  # unpublished or deleted since the last index write
        url = speech.get_absolute_url()
        snippets, count = [], counts.get(pk)
        if pieces:
            snippets = None
            if choices.get(pk) is not None:
                snippets = snippets_of(choices[pk], texts.get(pk, {}), pieces=pieces, url=url)
            if snippets is None:  # the index is older than the text: read and cut it afresh
                paragraphs = list(speech.paragraphs.values_list("position", "text"))
                snippets = best_snippets(paragraphs=paragraphs, pieces=pieces, url=url)
                count = count_in_paragraphs(paragraphs, pieces)
        score = round(float(score), 4)
        hits.append(Hit(speech, score, snippets=snippets, url=url, occurrences=count or 0))
    return hits


def _choices(searcher, docnums, ids, speeches, pieces):
    """({speech id: the paragraphs chosen for snippets from the index, or None},
    {speech id: how many places of its body are marked (命中 N 处), or None})."""
    folded, words = document_texts(searcher, FOLDED), document_texts(searcher, WORDS)
    choices, counts = {}, {}
    for docnum, pk in zip(docnums, ids, strict=True):
        speech, text, lengths = speeches.get(pk), folded.text(docnum), words.text(docnum)
        if speech is not None and text is not None and lengths is not None:
            names = len(searchable_names(speech))
            choices[pk], counts[pk] = choose_and_count(
                folded=text, lengths=lengths, names=names, pieces=pieces
            )
    return choices, counts


def facet_label(name, value):
    """A facet value's label as the facets show it, also where no result has that value."""
    searcher = backend().searcher()
    return value if searcher is None else _labels_of(searcher, name).get(value, value)


def _chosen_texts(choices):
    """{speech id: {position: text}} of the chosen paragraphs, in one query."""
    wanted = {(pk, c.position) for pk, chosen in choices.items() for c in chosen or ()}
    texts = {}
    for (pk, position), text in selectors.paragraph_texts(wanted=wanted).items():
        texts.setdefault(pk, {})[position] = text
    return texts


def _facets(searcher, docnums, selection):
    columns = _columns_of(searcher)
    facets = {}
    for name in FACETS:
        column = columns[name]
        counts = np.bincount(column.codes[docnums], minlength=len(column.values)).tolist()
        labels = _labels_of(searcher, name)
        options = [
            {
                "value": value,
                "label": labels.get(value, value),
                "count": count,
                "selected": getattr(selection, name) == value,
            }
            for value, count in zip(column.values, counts, strict=True)
            if value is not None and count
        ]
        if name == "year":
            options.sort(key=lambda o: o["value"], reverse=True)
        else:
            options.sort(key=lambda o: (-o["count"], o["label"]))
        facets[name] = options
    return facets


_LABELLED = {"speaker": Person, "organization": Organization, "event": Event}
_labels = PerSearcher()


def _labels_of(searcher, name):
    """{index value: label} of a facet, for every value in the index, read once per searcher
    (a rename re-indexes the addresses that show the name, so a newer searcher follows it)."""

    def read():
        if name == "kind":
            return {value: str(label) for value, label in SpeechKind.choices}
        model = _LABELLED.get(name)
        if model is None:
            return {}
        pks = [int(v) for v in _columns_of(searcher)[name].values if v and v.isdigit()]
        return {str(pk): str(obj) for pk, obj in model.objects.in_bulk(pks).items()}

    return _labels.get(searcher, name, read)


def _suggest(outcome, selection):
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
    if parsed.has_filters or selection.items() or parsed.excluded:
        candidates.append(("unfiltered", " ".join(t.text for t in terms)))
    seen = set()
    for kind, text in candidates:
        if text and text not in seen and text != raw:
            seen.add(text)
            outcome.suggestions.append({"kind": kind, "q": text})


def highlight_results(results, query_string, content_field):
    """Fill SearchResult.highlighted for haystack's highlight() with our own snippets."""
    pieces = parse(query_string).highlight_pieces
    for result in results:
        speech = result.object
        if speech is None:
            continue
        paragraphs = speech.paragraphs.values_list("position", "text")
        snippets = best_snippets(
            paragraphs=paragraphs, pieces=pieces, url=result.object.get_absolute_url()
        )
        result.highlighted = {content_field: [s.html for s in snippets]}
