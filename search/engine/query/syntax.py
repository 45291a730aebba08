"""Reading what a user typed into a search box. Never raises, whatever the input.

Syntax: words (all must match, in any order); "phrases" in ASCII quotes, “…” or 「…」 (exact);
-word (exclude); A OR B; speaker:周宇, org:…, event:…, year:2024, year:2015-2024, and 2024年.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from ..analysis import GRAM_RUN, fold, jieba_words

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
_QUOTES = {'"': '"', "“": "”", "”": "”", "「": "」", "『": "』", "＂": "＂", "„": "“"}
_FIELDS = {
    "speaker": "speaker",
    "讲者": "speaker",
    "org": "org",
    "organization": "org",
    "机构": "org",
    "event": "event",
    "会议": "event",
    "year": "year",
    "年份": "year",
}
_FIELD = re.compile(r"^([A-Za-z]+|[\u4e00-\u9fff]{2})[:：](.*)$", re.S)
_YEAR_RANGE = re.compile(r"^(\d{4})(?:\s*(?:-|–|—|~|至|到)\s*(\d{4}))?年?$")
_BARE_YEAR = re.compile(r"^(\d{4})年$")


@dataclass
class Term:
    """One thing that must (or must not) occur: `pieces` are folded exact substrings."""

    text: str
    pieces: list
    quoted: bool = False

    @property
    def label(self):
        return f"“{self.text}”" if self.quoted else " / ".join(self.pieces)


@dataclass
class ParsedQuery:
    raw: str = ""
    groups: list = field(default_factory=list)  # each group: Terms joined by OR
    excluded: list = field(default_factory=list)
    speaker: str = ""
    org: str = ""
    event: str = ""
    years: tuple | None = None
    truncated: bool = False

    @property
    def positive_terms(self):
        return [t for group in self.groups for t in group]

    @property
    def tokens(self):
        """The pieces as the engine understood them, for "检索词：轴承 / 产业"."""
        return [label for t in self.positive_terms for label in _labels(t)]

    @property
    def highlight_pieces(self):
        """Exact strings to mark; an unquoted run also as a whole, to mark it intact first."""
        pieces = {p for t in self.positive_terms for p in t.pieces}
        pieces |= {"".join(t.pieces) for t in self.positive_terms if len(t.pieces) > 1}
        return sorted(pieces, key=len, reverse=True)

    @property
    def has_filters(self):
        return bool(self.speaker or self.org or self.event or self.years)

    @property
    def is_empty(self):
        return not (self.groups or self.has_filters)


def _labels(term):
    return [term.label] if term.quoted else term.pieces


def clean(raw):
    """Control characters go (line breaks become spaces); the length is capped. Only a bounded
    prefix of what was sent is read, however long it is."""
    raw = raw or ""
    text = "".join(_clean_char(ch) for ch in raw[: 2 * MAX_QUERY_CHARS])
    truncated = len(text) > MAX_QUERY_CHARS or len(raw) > 2 * MAX_QUERY_CHARS
    return text[:MAX_QUERY_CHARS], truncated


def _clean_char(ch):
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)
    return "" if category[0] == "C" else ch


def parse(raw):
    text, truncated = clean(raw)
    query = ParsedQuery(raw=text, truncated=truncated)
    join_next = False
    for chunk, quoted in _chunks(text):
        if not quoted and chunk in ("OR", "|", "或"):
            join_next = bool(query.groups)
            continue
        negated = not quoted and chunk.startswith(("-", "－")) and len(chunk) > 1
        if negated:
            chunk = chunk[1:].lstrip("-－")
        # A filter narrows; a minus cannot turn it into an exclusion, so a negated one is dropped.
        if not quoted and _apply_field(ParsedQuery() if negated else query, chunk):
            continue
        term = _term(chunk, quoted=quoted or negated)
        if term is None or len(query.positive_terms) + len(query.excluded) >= MAX_TERMS:
            continue
        if negated:
            query.excluded.append(term)
        elif join_next:
            query.groups[-1].append(term)
        else:
            query.groups.append([term])
        join_next = False
    return query


def _chunks(text):
    """Yield (chunk, quoted): quoted phrases, else whitespace-separated words."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _QUOTES:
            end = text.find(_QUOTES[ch], i + 1)
            if end == -1 and ch in "“”":
                end = next((j for j in range(i + 1, n) if text[j] in "“”"), -1)
            end = n if end == -1 else end
            yield text[i + 1 : end], True
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _QUOTES:
                j += 1
            chunk = text[i:j]
            # field:"quoted value"
            if chunk.endswith((":", "：")) and j < n and text[j] in _QUOTES:
                end = text.find(_QUOTES[text[j]], j + 1)
                end = n if end == -1 else end
                chunk += text[j + 1 : end]
                j = end + 1
            yield chunk, False
            i = j


def _apply_field(query, chunk):
    folded = fold(chunk)
    bare = _BARE_YEAR.match(folded)
    if bare:
        query.years = (int(bare.group(1)), int(bare.group(1)))
        return True
    m = _FIELD.match(chunk)
    name = _FIELDS.get(m.group(1).lower()) if m else None
    if not name:
        return False
    value = fold(m.group(2)).strip()
    if name == "year":
        years = _YEAR_RANGE.match(value)
        if years:
            start = int(years.group(1))
            end = int(years.group(2) or start)
            query.years = (min(start, end), max(start, end))
        return True
    if value:
        setattr(query, name, value[:100])
    return True


def _term(chunk, *, quoted):
    folded = fold(chunk)
    if quoted:
        pieces = [m.group() for m in GRAM_RUN.finditer(folded)]
        text = chunk.strip()
    else:
        pieces = _word_pieces(folded)
        text = chunk
    pieces = list(dict.fromkeys(pieces))
    return Term(text=text, pieces=pieces, quoted=quoted) if pieces else None


def _word_pieces(folded):
    return [w for run in GRAM_RUN.findall(folded) for w, _, _ in jieba_words(run)]
