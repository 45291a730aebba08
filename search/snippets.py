"""The 1-3 paragraphs of an address that best match a query, with whole words marked.

Found by substring search over the folded paragraphs of the hits on one page; Whoosh's
highlighter would re-analyze each whole address instead (about 100 ms a hit).
"""

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .analysis import fold_with_map, jieba_tokenizer, raw_pattern

MAX_SNIPPETS = 3
WINDOW = 220
LEAD = 60


@dataclass(frozen=True)
class Snippet:
    paragraph: int
    html: str
    url: str


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


def mark_words(text, pieces, *, window=WINDOW):
    """Escaped text around the matches, each matched word wrapped whole in <mark>."""
    folded, offsets = fold_with_map(text)
    matches = _match_spans(folded, pieces)
    first, last = _window(len(folded), matches, window)
    spans = _word_spans(folded, [(s, e) for s, e in matches if s >= first and e <= last])
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
    return mark_safe("".join(out))


def _match_spans(folded, pieces):
    taken = [False] * len(folded)
    spans = []
    for piece in sorted(pieces, key=len, reverse=True):
        i = folded.find(piece)
        while i != -1:
            if not any(taken[i : i + len(piece)]):
                spans.append((i, i + len(piece)))
                taken[i : i + len(piece)] = [True] * len(piece)
            i = folded.find(piece, i + 1)
    return sorted(spans)


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
