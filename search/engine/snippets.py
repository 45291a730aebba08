"""The 1-3 paragraphs of an address that best match a query, with whole words marked; the
marks of a whole address (?hl=, search.marking) and their count (命中 N 处).

Found by substring search over the hits' folded text, which the index keeps beside the
lengths of its jieba words: only the chosen paragraphs are read from the database, and their
matches grow to the words around them without running jieba again. Whoosh's highlighter
would re-analyze each whole address instead (about 100 ms a hit). Where the index and the
database disagree (an edit not indexed yet), the paragraphs are read and cut afresh.
"""

import re
import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from itertools import chain

import numpy as np

from .analysis import (
    SEPARATOR,
    fold,
    fold_with_map,
    is_plain,
    jieba_tokenizer,
    phrase_pattern,
    raw_pattern,
    word_ends,
)
from .cache import cache
from .store import FOLDED, WORDS, document_texts

MAX_SNIPPETS = 3
# A snippet is about two lines of a result (one card, one snippet shown at first).
WINDOW = 100
LEAD = 30


@dataclass(frozen=True)
class Snippet:
    paragraph: int
    html: str
    url: str


@dataclass(frozen=True)
class Choice:
    """A paragraph chosen from the index: its position, its folded text, its words' ends."""

    position: int
    folded: str
    ends: list


@dataclass(frozen=True)
class Layout:
    """An indexed text as snippets read it: the folded searchable text (parts joined by
    SEPARATOR), where each part starts, and where each jieba word ends."""

    folded: str
    starts: np.ndarray
    ends: np.ndarray

    @property
    def nbytes(self):
        return sys.getsizeof(self.folded) + self.starts.nbytes + self.ends.nbytes

    def part(self, i):
        last = self.starts[i + 1] - len(SEPARATOR) if i + 1 < len(self.starts) else None
        return self.folded[self.starts[i] : last]


def layout(folded, lengths):
    """The Layout of an indexed text and its word_lengths(); None if they disagree."""
    ends = word_ends(lengths)
    if (ends[-1] if len(ends) else 0) != len(folded):
        return None
    sizes = np.fromiter(map(len, folded.split(SEPARATOR)), np.int64)
    starts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1] + len(SEPARATOR), out=starts[1:])
    return Layout(folded, starts, ends)


def indexed_layout(searcher, docnum):
    """The Layout of a document in the index, or None where the index was written without
    its text. Kept for the index generation: the long reports are among the first hits of
    most queries, and decoding them is a third of what choosing their snippets costs."""

    def read():
        folded = document_texts(searcher, FOLDED).text(docnum)
        lengths = document_texts(searcher, WORDS).text(docnum)
        return None if folded is None or lengths is None else layout(folded, lengths)

    found = cache.get(searcher, ("layout", docnum))
    if found is None:
        found = read()
        if found is not None:
            cache.put(searcher, ("layout", docnum), found)
    return found


def choose(text, *, names, pieces, limit=MAX_SNIPPETS):
    """The paragraphs of an indexed text (a Layout) that best match `pieces`, in order;
    `names`: how many parts come before the body."""
    return _chosen(text, names, pieces, limit, _matches(text, names, pieces))


def choose_and_count(text, *, names, pieces):
    """(choose(), the number of places of the body an address page marks for `pieces`), the
    Layout `text` searched once."""
    found = _matches(text, names, pieces)
    return _chosen(text, names, pieces, MAX_SNIPPETS, found), _count(text, found)


def _matches(text, names, pieces):
    """Where each piece occurs in the body, from left to right: (starts, ends, which piece,
    which part), as arrays; a common word has thousands, found at C speed piece by piece."""
    starts = text.starts
    body = int(starts[names]) if names < len(starts) else len(text.folded)
    spans, which = [], []
    for i, piece in enumerate(pieces):
        found = _alternatives((piece,)).finditer(text.folded, body)
        spans.append(np.fromiter(chain.from_iterable(map(re.Match.span, found)), np.int64))
        which.append(np.full(len(spans[-1]) // 2, i, dtype=np.int64))
    flat = np.concatenate(spans).reshape(-1, 2) if spans else np.zeros((0, 2), np.int64)
    which = np.concatenate(which) if which else np.zeros(0, np.int64)
    order = np.argsort(flat[:, 0], kind="stable")
    first, last, which = flat[order, 0], flat[order, 1], which[order]
    return first, last, which, starts.searchsorted(first, "right") - 1


def _chosen(text, names, pieces, limit, found):
    """The `limit` parts with the most kinds of pieces, then the most occurrences (each kind
    counted up to 5 times), in their order."""
    starts, ends = text.starts, text.ends
    _first, _last, which, part = found
    # np.bincount, not np.unique: a card's few dozen matches, twenty cards a page.
    counts = np.bincount(part * len(pieces) + which)
    kinds = np.flatnonzero(counts)
    score = np.bincount(kinds // len(pieces), weights=10 + np.minimum(counts[kinds], 5))
    best = np.argsort(-score, kind="stable")[: np.count_nonzero(score)][:limit]
    chosen = []
    for i in sorted(best.tolist()):
        folded = text.part(i)
        first, last = starts[i], starts[i] + len(folded)
        inside = ends[ends.searchsorted(first, "right") : ends.searchsorted(last, "right")]
        chosen.append(Choice(i - names + 1, folded, (inside - first).tolist()))
    return chosen


def _count(text, found):
    """How many marks mark_all() puts in the body with the index's words: the matches grown
    to whole words, those that then touch counted once."""
    ends = text.ends
    first, last, _which, _part = found
    if not len(first):
        return 0
    # _grown() for all spans at once. No match spans two parts, and words end where parts do.
    before = ends.searchsorted(first, "right")
    grown_first = np.where(before > 0, ends[before - 1], 0)
    reach = np.maximum.accumulate(ends[ends.searchsorted(last)])
    return 1 + int(np.count_nonzero(grown_first[1:] >= reach[:-1]))


def count_in_paragraphs(paragraphs, pieces):
    """The marks of text read from the database, where the index is older than it."""
    total = 0
    for _, text in paragraphs:
        folded = fold(text)
        if any(_occurrences_in(p, folded) for p in pieces):
            total += len(_word_spans(folded, _match_spans(folded, pieces)))
    return total


def snippets_of(choices, texts, *, pieces, url):
    """Snippets of the chosen paragraphs, `texts` their stored texts by position; None if a
    stored text no longer folds to what the index holds."""
    snippets = []
    for choice in choices:
        text = texts.get(choice.position)
        if text is None:
            return None
        html = mark_words(text, pieces, index=choice)
        if html is None:
            return None
        url_p = f"{url}#p{choice.position}"
        snippets.append(Snippet(paragraph=choice.position, html=html, url=url_p))
    return snippets


def best_snippets(*, paragraphs, pieces, url, limit=MAX_SNIPPETS):
    """`paragraphs`: (position, text) pairs; `pieces`: folded exact strings to find."""
    paragraphs = list(paragraphs)
    if not pieces or not paragraphs:
        return []
    found = _occurrences(paragraphs, pieces)
    scored = sorted(
        ((len(kinds) * 10 + sum(kinds.values()), i) for i, kinds in found.items()),
        key=lambda s: (-s[0], s[1]),
    )
    best = sorted(i for _, i in scored[:limit])
    snippets = []
    for i in best:
        position, text = paragraphs[i]
        snippets.append(
            Snippet(paragraph=position, html=mark_words(text, pieces), url=f"{url}#p{position}")
        )
    return snippets


def _occurrences(paragraphs, pieces):
    """{paragraph index: {piece: occurrences (at most 5)}}, found in the unfolded text."""
    starts, cursor = [], 0
    for _, text in paragraphs:
        starts.append(cursor)
        cursor += len(text) + 1
    joined = "\n".join(text for _, text in paragraphs)
    found = {}
    for piece in pieces:
        for m in _pattern(piece).finditer(joined):
            kinds = found.setdefault(bisect_right(starts, m.start()) - 1, {})
            kinds[piece] = min(kinds.get(piece, 0) + 1, 5)
    return found


@lru_cache(maxsize=512)
def _pattern(piece):
    return raw_pattern(piece)


def mark_words(text, pieces, *, window=WINDOW, index=None):
    """Escaped text around the matches, each matched word wrapped whole in <mark>.

    `index`: the paragraph's Choice, whose words are used instead of cutting the text again;
    None is returned if the text no longer folds to the Choice's.
    """
    folded, offsets = fold_with_map(text)
    if index is not None and folded != index.folded:
        return None
    matches = _match_spans(folded, pieces)
    first, last = _window(len(folded), matches, window)
    inside = [(s, e) for s, e in matches if s >= first and e <= last]
    spans = _grown(inside, index.ends) if index else _word_spans(folded, inside)
    if spans:
        first, last = min(first, spans[0][0]), max(last, spans[-1][1])
    start = offsets[first] if first else 0
    end = offsets[last - 1] + 1 if last < len(folded) else len(text)
    out, cursor = ["…" if start else ""], start
    for s, e in spans:
        s, e = offsets[s], offsets[e - 1] + 1
        out += [escape(text[cursor:s]), "<mark>", escape(text[s:e]), "</mark>"]
        cursor = e
    out += [escape(text[cursor:end]), "…" if end < len(text) else ""]
    return "".join(out)


def mark_all(text, pieces, *, index=None, first=1):
    """(the whole text escaped with each matched word in <mark id="hl-N">, numbered from
    `first`; how many marks), or (None, 0) where nothing matches.

    `index`: the paragraph's Choice; its words are used where the text still folds to it, so
    that the marks are those choose_and_count() counted.
    """
    folded, offsets = fold_with_map(text)
    matches = _match_spans(folded, pieces)
    if not matches:
        return None, 0
    if index is not None and folded == index.folded:
        spans = _grown(matches, index.ends)
    else:
        spans = _word_spans(folded, matches)
    out, cursor = [], 0
    for number, (s, e) in enumerate(spans, first):
        s, e = offsets[s], offsets[e - 1] + 1
        out += [escape(text[cursor:s]), f'<mark id="hl-{number}">', escape(text[s:e]), "</mark>"]
        cursor = e
    out.append(escape(text[cursor:]))
    return "".join(out), len(spans)


def _match_spans(folded, pieces):
    """Where `pieces` occur, none overlapping another: from left to right, the longest piece
    that occurs at each place."""
    return [m.span() for m in _alternatives(tuple(pieces)).finditer(folded)]


def match_pattern(pieces):
    """One regex finding `pieces` as search and the address page find them (_alternatives)."""
    return _alternatives(tuple(pieces))


@lru_cache(maxsize=512)
def _alternatives(pieces):
    """One regex for all pieces, the longest first; each piece as search matches it: as it
    stands, with any whitespace the folded text keeps (analysis.phrase_pattern)."""
    ordered = sorted(pieces, key=len, reverse=True)
    return re.compile("|".join(phrase_pattern(p) for p in ordered))


def _occurrences_in(piece, folded):
    """How often `piece` occurs in folded text, as search counts it."""
    return _counter(piece)(folded)


@lru_cache(maxsize=512)
def _counter(piece):
    if is_plain(piece):
        return lambda folded: folded.count(piece)
    pattern = _alternatives((piece,))
    return lambda folded: sum(1 for _ in pattern.finditer(folded))


def _word_spans(folded, spans, context=6):
    """Grow each match to the jieba words it touches, so no half word is ever marked.

    Only a few characters around the matches are segmented, once for matches close
    together: word boundaries there do not depend on text further away, and a whole
    paragraph would cost far more.
    """
    grown = []
    for group in _close_together(spans, context):
        words = _words(folded, max(0, group[0][0] - context), group[-1][1] + context, group)
        for s, e in group:
            for ws, we in words:
                if ws < e and we > s:
                    s, e = min(s, ws), max(e, we)
            if grown and s < grown[-1][1]:
                grown[-1] = (grown[-1][0], max(e, grown[-1][1]))
            else:
                grown.append((s, e))
    return grown


def _grown(spans, ends):
    """Each span grown to the words it touches, `ends` the words' end offsets; overlapping
    ones merged."""
    grown = []
    for s, e in spans:
        i = bisect_right(ends, s)
        s, e = ends[i - 1] if i else 0, ends[bisect_left(ends, e)]
        if grown and s < grown[-1][1]:
            grown[-1] = (grown[-1][0], max(e, grown[-1][1]))
        else:
            grown.append((s, e))
    return grown


def _close_together(spans, context):
    """The sorted spans, grouped where their surroundings of `context` characters overlap."""
    groups = []
    for s, e in spans:
        if groups and s - context < groups[-1][-1][1] + context:
            groups[-1].append((s, e))
        else:
            groups.append([(s, e)])
    return groups


def _words(folded, start, end, spans):
    """(start, end) of each jieba word of folded[start:end] that may touch `spans`.

    jieba cuts each run of its word characters on its own (punctuation and spaces split
    the text first): only the runs that hold part of a match are cut, with the same result.
    """
    cut, runs = jieba_tokenizer().cut, _jieba_runs()
    words = []
    for run in runs.finditer(folded, start, end):
        if any(s < run.end() and e > run.start() for s, e in spans):
            at = run.start()
            for word in cut(run.group(), HMM=True):
                words.append((at, at + len(word)))
                at += len(word)
    return words


def _jieba_runs():
    """jieba's own pattern for the runs it segments (jieba is loaded by then)."""
    import jieba

    return jieba.re_han_default


def _window(length, spans, window):
    if not spans:
        return 0, min(length, window)
    if length <= window:
        return 0, length
    start = max(0, spans[0][0] - LEAD)
    end = max(min(length, start + window), spans[0][1])
    return max(0, min(start, end - window)), end
