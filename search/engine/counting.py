"""Counting a query's occurrences in the bodies of the addresses it matches, and listing them
in context: term trends (by year, by speaker, per 10,000 characters) and the concordance (KWIC).

The candidates are the plan's matches, found through the postings; the occurrences are
counted where the plan found them (a run of letters, digits or CJK in the runs files beside
each segment, search.engine.runs), or else in the index's folded text of those candidates only,
as search counts a phrase: left to right, none overlapping another, the longest piece first
(snippets.match_pattern). Only the
body is counted (the paragraphs, not the title and names indexed before them), so that every
occurrence has a paragraph to link to and the per-year totals are those the concordance
lists. Each document's body length is a column written with it (BODY_CHARS).

A string of two different characters is counted by its bigram's postings, and one
character by its postings in the `chars` field: both hold its occurrences in each document's
whole text, those in the text before the body (the HEAD column) are taken away, and no body
is read. Those are the common words (发展, 改革) a researcher charts first, and the
characters (党, 法) found in nearly every address.
"""

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .analysis import GRAM_RUN, SEPARATOR, fold_with_map, is_plain
from .cache import cache
from .evaluation import Evaluation, without
from .runs import placeable, runs
from .snippets import match_pattern
from .store import (
    BODY_CHARS,
    CHARS_COUNTED,
    FOLDED,
    coded_column,
    column_numbers,
    dates,
    document_texts,
    heads,
)

# The searchable text starts with title, subtitle and position, then the speaker's,
# organization's and event's names where the address has them (search.documents).
_FIXED_NAMES = 3
_NAMED = ("speaker", "organization", "event")
_SEPARATOR = SEPARATOR.encode("utf-8")
CONTEXT = 30
# What a document's body start weighs in the cache (an int and its list slot), roughly.
START_BYTES = 40
# What a Line costs in the cache, roughly (a small object and its list slot).
LINE_BYTES = 120
_WHITESPACE = re.compile(r"\s+")
SORTS = ("date", "oldest", "address", "left", "right")


@dataclass(frozen=True)
class Line:
    """One occurrence: the document, the paragraph's position (from 1), and where the match
    starts and ends in the paragraph's folded text; `at`, where known, where the paragraph
    starts in the document's folded text (in bytes)."""

    doc: int
    paragraph: int
    start: int
    end: int
    at: int | None = None


def names_before_body(searcher):
    """How many parts of each document's searchable text come before its body."""

    def build():
        names = np.full(searcher.doc_count_all(), _FIXED_NAMES, dtype=np.int64)
        for name in _NAMED:
            names += coded_column(searcher, name).codes != 0
        return names

    return cache.value(searcher, ("column", "names before body"), build)


def body_of(searcher, doc):
    """The document's folded body, paragraphs joined by SEPARATOR ("" where it has none,
    None where the index was written without its text)."""
    raw = document_texts(searcher, FOLDED).raw(doc)
    if raw is None:
        return None
    start = body_start(searcher)(doc, raw)
    return "" if start is None else raw[start:].decode("utf-8")


def body_start(searcher):
    """A function (docnum, its UTF-8 folded text) -> where its body starts, None if it has
    none: after the HEAD column's text and a separator, or, in an index written without
    that column, after the parts names_before_body() counts."""

    def build():
        before = heads(searcher)
        if not before:
            names = names_before_body(searcher).tolist()
            return lambda doc, raw: _body_start(raw, names[doc])
        starts = (before.lengths + len(_SEPARATOR)).tolist()
        return lambda doc, raw: starts[doc] if starts[doc] <= len(raw) else None

    weight = START_BYTES * searcher.doc_count_all()
    return cache.value(searcher, ("column", "body start"), build, weight=weight)


def _body_start(raw, names):
    """Where the body starts in a document's UTF-8 folded text, or None if it has none."""
    start = 0
    for _ in range(names):
        at = raw.find(_SEPARATOR, start)
        if at < 0:
            return None
        start = at + len(_SEPARATOR)
    return start


def body_length(folded, *, names):
    """Characters of the body of a folded searchable text whose first `names` parts come
    before it, separators not counted."""
    parts = folded.split(SEPARATOR)[names:]
    return sum(map(len, parts))


def head_of(folded, *, names):
    """The part of a folded searchable text before its body (its first `names` parts)."""
    return SEPARATOR.join(folded.split(SEPARATOR)[:names])


def body_lengths(searcher):
    """Characters of every document's folded body, by docnum: the BODY_CHARS column, or,
    where the index was written before it, counted in the document's text."""

    def build():
        lengths = column_numbers(searcher, BODY_CHARS)
        for doc in np.flatnonzero(lengths < 0).tolist():
            lengths[doc] = body_length(body_of(searcher, doc) or "", names=0)
        return lengths

    return cache.value(searcher, ("column", BODY_CHARS), build)


def occurrences(searcher, node, pieces, *, key):
    """(docs, counts): the documents `node` matches whose body holds one of `pieces`, and how
    often, aligned. Kept for the index generation under `key` (the query and its filters)."""

    def build():
        plain = len(pieces) == 1 and is_plain(pieces[0])
        counted = BodyCounts(searcher, pieces[0].encode("utf-8")) if plain else None
        evaluation = Evaluation(searcher, counting=counted)
        docs = evaluation.docs(node)
        field = _counting_field(pieces)
        if field and heads(searcher):
            counts = _counts_in_postings(evaluation, field, pieces[0], docs)
        elif plain:
            counts = _plain_counts(searcher, docs, pieces[0].encode("utf-8"), counted=counted)
        else:
            counts = [_count(body_of(searcher, d), pieces) for d in docs.tolist()]
        counts = np.array(counts, dtype=np.int64)
        holding = counts > 0
        return docs[holding], counts[holding]

    return cache.value(searcher, ("research", "occurrences", key), build)


def _counting_field(pieces):
    """The field whose postings count the one piece's occurrences exactly, or None: "chars"
    for one character of a run, "grams" for two different ones (two alike overlap, as 哈哈
    in 哈哈哈, where the text's count does not)."""
    if len(pieces) != 1 or not GRAM_RUN.fullmatch(pieces[0]):
        return None
    piece = pieces[0]
    if len(piece) == 1:
        return "chars"
    return "grams" if len(piece) == 2 and piece[0] != piece[1] else None


def _counts_in_postings(evaluation, field, piece, docs):
    """The piece's occurrences in each document's body: its postings' count in the whole
    text, less those in the text before the body. A document whose `chars` postings were
    written before they counted occurrences (one each) is counted in its text."""
    searcher = evaluation.searcher
    postings = evaluation.postings(field, piece, docs)
    where, found = postings.at(docs) if len(postings.ids) else (None, None)
    if found is None:
        return np.zeros(len(docs), dtype=np.int64)
    counts = np.where(found, postings.weights[where], 0).astype(np.int64)
    counts -= heads(searcher).occurrences(piece.encode("utf-8"))[docs]
    old = ~chars_counted(searcher)[docs] if field == "chars" else None
    if old is not None and old.any():
        counts[old] = _plain_counts(searcher, docs[old], piece.encode("utf-8"))
    return counts


def chars_counted(searcher):
    """Whether each document's `chars` postings count occurrences, by docnum (not where the
    index was written before they did)."""

    def read():
        return column_numbers(searcher, CHARS_COUNTED) > 0

    return cache.value(searcher, ("column", CHARS_COUNTED), read)


def _plain_counts(searcher, docs, needle, *, counted=None):
    """How often the UTF-8 bytes `needle` occur in each document's body, counted in the
    stored bytes without decoding them (a match of UTF-8 bytes is a match of characters);
    `counted`: the BodyCounts of the documents counted already."""
    counts = BodyCounts(searcher, needle) if counted is None else counted
    unread = np.array([doc for doc in docs.tolist() if doc not in counts], dtype=np.int64)
    placed = runs(searcher).find(needle.decode("utf-8"), unread)
    counts.update(placed.counted())
    for doc, raw in document_texts(searcher, FOLDED).each(without(unread, placed.answered)):
        counts.count(doc, raw)
    return [counts[doc] for doc in docs.tolist()]


class BodyCounts(dict):
    """{docnum: occurrences of the UTF-8 bytes `needle` in its body}, for the texts search
    reads to confirm `needle` (Evaluation's `counting`): each is counted as it is confirmed,
    one scan of its text, not a search for the first occurrence and then a count."""

    def __init__(self, searcher, needle):
        super().__init__()
        self.needle, self._searcher = needle, searcher

    @cached_property
    def _start_of(self):  # made once asked: where the runs files count, no text is read
        return body_start(self._searcher)

    def __call__(self, doc, raw):
        """Whether the document's folded text (None: indexed without it) holds the needle,
        its body's occurrences counted on the way."""
        if raw is None:
            self[doc] = 0
            return True  # an index written without the text cannot tell: never missed
        return self.within(doc, raw, 0, len(raw))

    def within(self, doc, buffer, start, end):
        """__call__() of the document whose folded text is buffer[start:end]: the count goes
        on from the first occurrence."""
        first = buffer.find(self.needle, start, end)
        if first < 0:
            self[doc] = 0
            return False
        self.count(doc, buffer[start:end], since=first - start)
        return True

    def count(self, doc, raw, *, since=0):
        """Keep the needle's occurrences in the body of the document's folded text (None:
        none), counting none before `since`."""
        start = None if raw is None else self._start_of(doc, raw)
        self[doc] = 0 if start is None else raw.count(self.needle, max(start, since))


def _count(body, pieces):
    if not body or not pieces:
        return 0
    return sum(1 for _ in match_pattern(pieces).finditer(body))


def scope_docs(searcher, node):
    """The documents in scope (what the filters leave), whose text is the denominator."""
    return Evaluation(searcher).docs(node)


@dataclass(frozen=True)
class Tally:
    """Occurrences of a query by the values of a column (years, speakers)."""

    value: str
    count: int
    addresses: int
    chars: int

    @property
    def per_10k(self):
        return round(self.count * 10_000 / self.chars, 2) if self.chars else 0.0


def tally(searcher, column, scope, docs, counts):
    """A Tally for each value of `column` with text in `scope` (zero where `docs` holds
    none), in the column's order; documents without a value are left out."""
    coded, lengths = coded_column(searcher, column), body_lengths(searcher)
    size = len(coded.values)
    chars = np.bincount(coded.codes[scope], weights=lengths[scope], minlength=size)
    found = np.bincount(coded.codes[docs], weights=counts, minlength=size)
    holding = np.bincount(coded.codes[docs], minlength=size)
    return [
        Tally(coded.values[code], int(found[code]), int(holding[code]), int(chars[code]))
        for code in range(1, size)
        if chars[code] > 0
    ]


# -- the concordance --------------------------------------------------------------------------


def lines(searcher, docs, pieces, *, key):
    """Every occurrence of `pieces` in the bodies of `docs`, in document and text order."""
    return _kept(searcher, ("research", "lines", key), lambda: _cut(searcher, docs, pieces))


def _cut(searcher, docs, pieces):
    placed = runs(searcher)
    if len(pieces) == 1 and placeable(pieces[0]) and placed.complete:
        return _cut_placed(searcher, placed, docs, pieces[0])
    pattern, found = match_pattern(pieces), []
    for doc in docs.tolist():
        for position, paragraph in enumerate((body_of(searcher, doc) or "").split(SEPARATOR)):
            found += [Line(doc, position + 1, *m.span()) for m in pattern.finditer(paragraph)]
    return found


def _cut_placed(searcher, placed, docs, run):
    """_cut() of one run, where the runs files say where it is: only the text before each
    occurrence in its paragraph is decoded, not every body split and searched."""
    places = placed.in_bodies(run, np.unique(docs))
    texts, found, size = document_texts(searcher, FOLDED), [], len(run)
    for doc in docs.tolist():
        if doc not in places:
            continue
        raw, (begin, starts) = texts.raw(doc), places[doc]
        paragraph = 1
        for start in starts:
            paragraph += raw.count(_SEPARATOR, begin, start)
            last = raw.rfind(_SEPARATOR, begin, start)
            begin = begin if last < 0 else last + len(_SEPARATOR)
            first = len(raw[begin:start].decode("utf-8"))
            found.append(Line(doc, paragraph, first, first + size, begin))
    return found


def lines_shown(searcher, docs, counts, pieces, sort, start, end, *, key):
    """Lines `start` to `end` of the occurrences (`docs` and their `counts`, as occurrences()
    gives them) in the order of `sort`. In date order only the documents of those lines are
    cut, the others skipped by their counts: the first page of a common word's thousands of
    lines reads one or two bodies, not all of them."""
    if sort not in ("date", "oldest"):
        return ordered(searcher, lines(searcher, docs, pieces, key=key), sort, key=key)[start:end]
    when = dates(searcher)[docs]
    undated, key_date = when == 0, -when if sort == "date" else when
    order = np.lexsort((np.arange(len(docs)), key_date, undated))
    before = np.concatenate(([0], np.cumsum(counts[order])))
    first = max(0, int(np.searchsorted(before, start, "right")) - 1)
    last = int(np.searchsorted(before, end, "left"))
    found = _cut(searcher, docs[order][first:last], pieces)
    skip = start - int(before[first])
    return found[skip : skip + end - start]


def ordered(searcher, found, sort, *, key):
    """The lines in the order of `sort`: by address (title), or by the context left of the
    match (read from the match leftwards, as AntConc sorts) or right of it; ties in date
    order, newest first (undated last)."""

    def build():
        when = dates(searcher)
        newest = sorted(found, key=lambda line: (when[line.doc] == 0, -when[line.doc]))
        if sort == "address":
            titles = {d: _title(searcher, d) for d in {line.doc for line in found}}
            return sorted(newest, key=lambda line: titles[line.doc])
        contexts = _contexts(searcher, newest)
        keys = [left[::-1] if sort == "left" else right for left, right in contexts]
        return [newest[i] for i in sorted(range(len(newest)), key=keys.__getitem__)]

    return _kept(searcher, ("research", "ordered", key, sort), build)


def _kept(searcher, key, build):
    """A list of lines, kept for the generation at its rough size (a common word has tens of
    thousands)."""
    found = cache.get(searcher, key)
    if found is None:
        found = build()
        cache.put(searcher, key, found, weight=LINE_BYTES * len(found) + 64)
    return found


def _title(searcher, doc):
    raw = document_texts(searcher, FOLDED).raw(doc) or b""
    return raw.split(_SEPARATOR, 1)[0].decode("utf-8")


def _contexts(searcher, found):
    """(left, right) folded context of each line, each document's body split once."""
    split, out = {}, []
    for line in found:
        if line.doc not in split:
            split[line.doc] = (body_of(searcher, line.doc) or "").split(SEPARATOR)
        paragraph = split[line.doc][line.paragraph - 1]
        out.append(
            (
                paragraph[max(0, line.start - CONTEXT) : line.start],
                paragraph[line.end : line.end + CONTEXT],
            )
        )
    return out


def in_context(text, line, indexed, pieces, *, width=CONTEXT):
    """(left, match, right) of a line in the stored paragraph `text`, in its own characters,
    `width` characters either side. `indexed`: the paragraph's folded text in the index; where
    the stored text no longer folds to it (edited since), the match nearest the indexed place
    is shown, and where there is none, the index's folded context."""
    folded, offsets = fold_with_map(text)
    start, end = line.start, line.end
    if folded != indexed:
        spans = [m.span() for m in match_pattern(pieces).finditer(folded)]
        if not spans:
            left, right = indexed[max(0, start - width) : start], indexed[end : end + width]
            return _flat(left), indexed[start:end], _flat(right)
        start, end = min(spans, key=lambda span: abs(span[0] - line.start))
    first, last = offsets[start], offsets[end - 1] + 1
    left, right = text[max(0, first - width) : first], text[last : last + width]
    return _flat(left), _flat(text[first:last]), _flat(right)


def _flat(text):
    return _WHITESPACE.sub(" ", text)


def paragraph_of(searcher, line):
    """The folded text of the line's paragraph, as the index holds it (only that paragraph
    decoded)."""
    raw = document_texts(searcher, FOLDED).raw(line.doc)
    if raw is not None and line.at is not None:
        end = raw.find(_SEPARATOR, line.at)
        return raw[line.at : end if end >= 0 else len(raw)].decode("utf-8")
    start = None if raw is None else body_start(searcher)(line.doc, raw)
    parts = [b""] if start is None else raw[start:].split(_SEPARATOR)
    return parts[line.paragraph - 1].decode("utf-8") if line.paragraph <= len(parts) else ""
