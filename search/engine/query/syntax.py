"""Reading what a user typed into a search box. Never raises, whatever the input.

Reading (`match`): "exact", the default, matches each space-separated string as it stands,
punctuation included, whitespace in the text never separating a match; "words" matches the jieba
words of an unquoted string anywhere in the address (a quoted phrase is exact either way).

Syntax: strings (all must match, in any order); "phrases" in ASCII quotes, “…” or 「…」 (exact);
-word and -"phrase" (exclude); A OR B (also or, | and 或); speaker:周宇, org:…, event:…, year:2024,
year:2015-2024, each repeatable; A 同段 B and A 同句 B (also A /p B and A /s B): both strings, in one
paragraph or one sentence (repeated values of one field are alternatives). 2024年 is text:
the year filter is year:. Lucene's ~N and ^N and unknown field names (text:…) are not syntax here:
they are dropped, and the reader is told (`ignored`).
"""

import re
import unicodedata
from dataclasses import dataclass, field

from ..analysis import GRAM_RUN, fold, jieba_words, phrase_of, phrase_parts

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
_ASCII_FIELD = re.compile(r"^[A-Za-z]+$")
# Lucene's fuzzy/proximity (~2) and boost (^3) suffixes: not ours, and never text either.
_LUCENE_SUFFIX = re.compile(r"(?:~\d*(?:\.\d+)?|\^\d+(?:\.\d+)?)$")
_OR = ("|", "或")
_MINUS = ("-", "－")
# Proximity operators: both sides in one paragraph, or in one sentence.
_NEAR = {"同段": "paragraph", "/p": "paragraph", "同句": "sentence", "/s": "sentence"}
MATCHES = ("exact", "words")


@dataclass
class Term:
    """One thing that must (or must not) occur. `phrase`: the folded string that must occur as
    it stands (exact reading), "" where the words may occur anywhere; `pieces`: folded exact
    substrings every matching address holds (the phrase's runs, or its jieba words)."""

    text: str
    pieces: list
    quoted: bool = False
    phrase: str = ""

    @property
    def label(self):
        if self.quoted:
            return f"“{self.text}”"
        return self.phrase or " / ".join(self.pieces)


@dataclass
class NearTerm(Term):
    """Two strings that must occur in one paragraph or one sentence (`unit`)."""

    first: Term = None
    second: Term = None
    unit: str = "paragraph"

    @property
    def label(self):
        word = "同段" if self.unit == "paragraph" else "同句"
        return f"{self.first.label} {word} {self.second.label}"

    @property
    def phrases(self):
        return [self.first.phrase, self.second.phrase]


def _near(first, second, unit):
    pieces = list(dict.fromkeys(first.pieces + second.pieces))
    text = f"{first.text} {second.text}"
    return NearTerm(text=text, pieces=pieces, first=first, second=second, unit=unit)


@dataclass
class ParsedQuery:
    raw: str = ""
    groups: list = field(default_factory=list)  # each group: Terms joined by OR
    excluded: list = field(default_factory=list)
    # Name filters and year ranges: each a list of alternatives.
    speakers: list = field(default_factory=list)
    orgs: list = field(default_factory=list)
    events: list = field(default_factory=list)
    year_ranges: list = field(default_factory=list)
    truncated: bool = False
    ignored: list = field(default_factory=list)  # what was typed but is not syntax here
    match: str = "exact"

    @property
    def speaker(self):
        return " / ".join(self.speakers)

    @property
    def org(self):
        return " / ".join(self.orgs)

    @property
    def event(self):
        return " / ".join(self.events)

    @property
    def years(self):
        """The first year range, or None; `year_ranges` has them all."""
        return self.year_ranges[0] if self.year_ranges else None

    @property
    def years_label(self):
        return " / ".join(f"{a}–{b}" if a != b else str(a) for a, b in self.year_ranges)

    @property
    def positive_terms(self):
        return [t for group in self.groups for t in group]

    @property
    def tokens(self):
        """The pieces as the engine understood them, for "检索词：轴承 / 产业"."""
        return [label for t in self.positive_terms for label in _labels(t)]

    @property
    def phrases(self):
        """The folded strings that must occur as they stand, in order."""
        found = [p for t in self.positive_terms for p in _phrases(t)]
        return list(dict.fromkeys(found))

    @property
    def highlight_pieces(self):
        """Exact strings to mark: each phrase whole, or in the words reading the pieces, and
        an unquoted run also as a whole, to mark it intact first."""
        pieces = set()
        for t in self.positive_terms:
            pieces |= set(_phrases(t)) or set(t.pieces)
            if not _phrases(t) and len(t.pieces) > 1:
                pieces.add("".join(t.pieces))
        return sorted(pieces, key=len, reverse=True)

    @property
    def has_filters(self):
        return bool(self.speakers or self.orgs or self.events or self.year_ranges)

    @property
    def is_empty(self):
        """Nothing asked: an exclusion alone asks for every address without it."""
        return not (self.groups or self.excluded or self.has_filters)


def _phrases(term):
    return term.phrases if isinstance(term, NearTerm) else [term.phrase] if term.phrase else []


def _labels(term):
    return [term.label] if term.quoted or term.phrase or isinstance(term, NearTerm) else term.pieces


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


def parse(raw, *, match="exact"):
    text, truncated = clean(raw)
    query = ParsedQuery(raw=text, truncated=truncated, match=match)
    join_next, near = False, None
    for chunk, quoted, negated in _chunks(text):
        if not quoted and (chunk in _OR or chunk.upper() == "OR"):
            join_next = bool(query.groups)
            continue
        if not quoted and chunk.lower() in _NEAR:
            near = _NEAR[chunk.lower()] if query.groups else None
            continue
        if not quoted and not _FIELD.match(chunk):
            chunk = _without_lucene_suffix(chunk, query)
            quoted = negated  # -word excludes the word as it stands
        # A filter narrows; a minus cannot turn it into an exclusion, so a negated one is dropped.
        if not quoted and _apply_field(ParsedQuery() if negated else query, chunk):
            join_next = False
            continue
        # Both sides of 同段/同句 are strings as they stand, whatever the reading.
        exact = quoted or match == "exact" or (near is not None and not negated)
        term = _term(chunk, quoted=quoted, exact=exact)
        if term is None or len(query.positive_terms) + len(query.excluded) >= MAX_TERMS:
            continue
        if near is not None and not negated and not isinstance(query.groups[-1][-1], NearTerm):
            group = query.groups[-1]
            previous = group.pop()
            if not previous.phrase:  # the words reading: this side too is a string as it stands
                previous = _term(previous.text, quoted=previous.quoted, exact=True)
            term = _near(previous, term, near)
            # 同段 binds closer than OR: the pair takes its first side's place.
            join_next = bool(group)
            if not group:
                query.groups.pop()
        near = None
        if negated:
            query.excluded.append(term)
        elif join_next:
            query.groups[-1].append(term)
        else:
            query.groups.append([term])
        join_next = False
    return query


def _chunks(text):
    """Yield (chunk, quoted, negated): quoted phrases, else whitespace-separated words; a
    minus before either negates it (-word, -"phrase")."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        negated = ch in _MINUS and i + 1 < n and not text[i + 1].isspace()
        if negated:
            while i < n and text[i] in _MINUS:
                i += 1
            ch = text[i] if i < n else ""
        if ch.isspace() or not ch:
            i += 1
        elif ch in _QUOTES:
            end = text.find(_QUOTES[ch], i + 1)
            if end == -1 and ch in "“”":
                end = next((j for j in range(i + 1, n) if text[j] in "“”"), -1)
            end = n if end == -1 else end
            yield text[i + 1 : end], True, negated
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
            yield chunk, False, negated
            i = j


def _apply_field(query, chunk):
    """Whether `chunk` is a filter (then applied to `query`). An unknown ASCII field name
    (text:…) is dropped, its value searched as text: a Chinese prefix with a colon may be
    the text itself."""
    m = _FIELD.match(chunk)
    if not m:
        return False
    name = _FIELDS.get(m.group(1).lower())
    if not name:
        if not _ASCII_FIELD.match(m.group(1)):
            return False
        query.ignored.append(f"{m.group(1)}:")
        value = m.group(2).strip()
        term = _term(value, quoted=False, exact=query.match == "exact") if value else None
        if term is not None:
            query.groups.append([term])
        return True
    value = fold(m.group(2)).strip()
    if name == "year":
        years = _YEAR_RANGE.match(value)
        if years:
            start = int(years.group(1))
            end = int(years.group(2) or start)
            _add(query.year_ranges, (min(start, end), max(start, end)))
        return True
    if value:
        _add(getattr(query, f"{name}s"), value[:100])
    return True


def _add(values, value):
    if value not in values:
        values.append(value)


def _without_lucene_suffix(chunk, query):
    suffix = _LUCENE_SUFFIX.search(chunk)
    if not suffix:
        return chunk
    query.ignored.append(suffix.group())
    return chunk[: suffix.start()]


def _term(chunk, *, quoted, exact):
    folded = fold(chunk)
    if exact:
        phrase = phrase_of(folded)
        text = chunk.strip() if quoted else chunk
        return (
            Term(text=text, pieces=phrase_parts(phrase), quoted=quoted, phrase=phrase)
            if phrase
            else None
        )
    pieces = list(dict.fromkeys(_word_pieces(folded)))
    return Term(text=chunk, pieces=pieces) if pieces else None


def _word_pieces(folded):
    return [w for run in GRAM_RUN.findall(folded) for w, _, _ in jieba_words(run)]
