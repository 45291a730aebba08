"""Counting a query's occurrences in the bodies of the addresses it matches, and listing them
in context: term trends (by year, by speaker, per 10,000 characters) and the concordance (KWIC).

The candidates are the plan's matches, found through the postings; the occurrences are
counted in the index's folded text of those candidates only, as search counts a phrase: left
to right, none overlapping another, the longest piece first (snippets.match_pattern). Only the
body is counted (the paragraphs, not the title and names indexed before them), so that every
occurrence has a paragraph to link to and the per-year totals are those the concordance
lists. Each document's body length is computed once per index generation.
"""

import re
from dataclasses import dataclass

import numpy as np

from .analysis import SEPARATOR, fold_with_map, is_plain
from .cache import cache
from .evaluation import Evaluation
from .snippets import match_pattern
from .store import FOLDED, coded_column, dates, document_texts

# The searchable text starts with title, subtitle and position, then the speaker's,
# organization's and event's names where the address has them (search.documents).
_FIXED_NAMES = 3
_NAMED = ("speaker", "organization", "event")
_SEPARATOR = SEPARATOR.encode("utf-8")
CONTEXT = 30
# What a Line costs in the cache, roughly (a small object and its list slot).
LINE_BYTES = 120
_WHITESPACE = re.compile(r"\s+")
SORTS = ("date", "oldest", "address", "left", "right")


@dataclass(frozen=True)
class Line:
    """One occurrence: the document, the paragraph's position (from 1), and where the match
    starts and ends in the paragraph's folded text."""

    doc: int
    paragraph: int
    start: int
    end: int


def names_before_body(searcher):
    """How many parts of each document's searchable text come before its body."""

    def build():
        names = np.full(searcher.doc_count_all(), _FIXED_NAMES, dtype=np.int64)
        for name in _NAMED:
            names += coded_column(searcher, name).codes != 0
        return names

    return cache.value(searcher, ("research", "names"), build)


def body_of(searcher, doc):
    """The document's folded body, paragraphs joined by SEPARATOR ("" where it has none,
    None where the index was written without its text)."""
    raw = document_texts(searcher, FOLDED).raw(doc)
    if raw is None:
        return None
    start = 0
    for _ in range(int(names_before_body(searcher)[doc])):
        at = raw.find(_SEPARATOR, start)
        if at < 0:
            return ""
        start = at + len(_SEPARATOR)
    return raw[start:].decode("utf-8")


def body_lengths(searcher):
    """Characters of every document's folded body (separators not counted), by docnum."""

    def build():
        lengths = np.zeros(searcher.doc_count_all(), dtype=np.int64)
        for doc in Evaluation(searcher).every(None).tolist():
            body = body_of(searcher, doc)
            if body:
                lengths[doc] = len(body) - body.count(SEPARATOR) * len(SEPARATOR)
        return lengths

    return cache.value(searcher, ("research", "lengths"), build)


def occurrences(searcher, node, pieces, *, key):
    """(docs, counts): the documents `node` matches whose body holds one of `pieces`, and how
    often, aligned. Kept for the index generation under `key` (the query and its filters)."""

    def build():
        docs = Evaluation(searcher).docs(node)
        counts = np.array([_count(body_of(searcher, d), pieces) for d in docs.tolist()])
        counts = counts.astype(np.int64) if len(counts) else np.zeros(0, dtype=np.int64)
        holding = counts > 0
        return docs[holding], counts[holding]

    return cache.value(searcher, ("research", "occurrences", key), build)


def _count(body, pieces):
    if not body or not pieces:
        return 0
    if len(pieces) == 1 and is_plain(pieces[0]):
        return body.count(pieces[0])
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

    def build():
        pattern = match_pattern(pieces)
        found = []
        for doc in docs.tolist():
            for position, paragraph in enumerate((body_of(searcher, doc) or "").split(SEPARATOR)):
                found += [Line(doc, position + 1, *m.span()) for m in pattern.finditer(paragraph)]
        return found

    return _kept(searcher, ("research", "lines", key), build)


def ordered(searcher, found, sort, *, key):
    """The lines in the order of `sort` (SORTS): newest or oldest first (undated last), by
    address (title), or by the context left of the match (read from the match leftwards, as
    AntConc sorts) or right of it; ties in date order."""

    def build():
        when = dates(searcher)
        newest = sorted(found, key=lambda line: (when[line.doc] == 0, -when[line.doc]))
        if sort == "date":
            return newest
        if sort == "oldest":
            return sorted(found, key=lambda line: (when[line.doc] == 0, when[line.doc]))
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
    """The folded text of the line's paragraph, as the index holds it."""
    parts = (body_of(searcher, line.doc) or "").split(SEPARATOR)
    return parts[line.paragraph - 1] if line.paragraph <= len(parts) else ""
