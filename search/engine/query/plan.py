"""A query plan: a tree of nodes, each of which finds its documents and scores them.

Each node type is one class with `docs(evaluation, within)` (the sorted docnums it matches,
among `within` if given) and `scores(evaluation, docs)` (its score at each of `docs`, 0 where
it does not match), as Lucene's Query → Weight → Scorer and Whoosh's query → matcher do: a new
operator is one new class here. `whoosh()` gives the same query in Whoosh's own classes, which
the haystack adapter runs and the tests compare with (their matches and BM25F scores are the
same: search/tests/test_ranking.py).
"""

import re
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.matching import FilterMatcher
from whoosh.query.wrappers import WrappingQuery

from ..analysis import is_plain, phrase_parts, phrase_pattern, query_grams
from ..cache import cache
from ..evaluation import idf, restrict, spread, together, total, union, without
from ..store import FOLDED, DocumentTexts

GRAMS = "grams"


class Node:
    boost = 1.0
    memo = True  # whether an Evaluation keeps what it found (cheap nodes: no)

    def docs(self, evaluation, within):
        raise NotImplementedError

    def scores(self, evaluation, docs):
        """A constant, the boost, wherever it matches (0 for a filter)."""
        matching = evaluation.docs(self, docs)
        return spread(np.full(len(matching), float(self.boost)), matching, docs)

    def estimate(self, evaluation):
        """About how many documents match: And evaluates its rarest part first."""
        return evaluation.reader.doc_count_all()

    def whoosh(self):
        raise NotImplementedError


@dataclass(eq=False)
class Term(Node):
    field: str
    text: str
    boost: float = 1.0
    memo = False

    def docs(self, evaluation, within):
        return restrict(evaluation.postings(self.field, self.text, within).ids, within)

    def scores(self, evaluation, docs):
        return evaluation.term_scores(self.field, self.text, self.boost, docs)

    def estimate(self, evaluation):
        return evaluation.doc_frequency(self.field, self.text)

    def whoosh(self):
        return wq.Term(self.field, self.text, boost=self.boost)


@dataclass(eq=False)
class And(Node):
    children: list
    boost: float = 1.0

    def docs(self, evaluation, within):
        # The rarest first, each later one looked for only among the matches so far (a rare
        # word skips most of a common one's blocks).
        for child in sorted(self.children, key=lambda c: c.estimate(evaluation)):
            within = evaluation.docs(child, within)
        return within

    def scores(self, evaluation, docs):
        matching = evaluation.docs(self, docs)
        parts = [child.scores(evaluation, matching) for child in self.children]
        return spread(total(parts, len(matching)) * self.boost, matching, docs)

    def estimate(self, evaluation):
        return min(child.estimate(evaluation) for child in self.children)

    def whoosh(self):
        return wq.And([child.whoosh() for child in self.children], boost=self.boost)


@dataclass(eq=False)
class Or(Node):
    children: list

    def docs(self, evaluation, within):
        return union([evaluation.docs(child, within) for child in self.children])

    def scores(self, evaluation, docs):  # each alternative where it matches
        return total([child.scores(evaluation, docs) for child in self.children], len(docs))

    def estimate(self, evaluation):
        return sum(child.estimate(evaluation) for child in self.children)

    def whoosh(self):
        return wq.Or([child.whoosh() for child in self.children])


@dataclass(eq=False)
class AndNot(Node):
    positive: Node
    negative: Node

    def docs(self, evaluation, within):
        found = evaluation.docs(self.positive, within)
        return without(found, evaluation.docs(self.negative, found))

    def scores(self, evaluation, docs):
        matching = evaluation.docs(self, docs)
        return spread(self.positive.scores(evaluation, matching), matching, docs)

    def estimate(self, evaluation):
        return self.positive.estimate(evaluation)

    def whoosh(self):
        return wq.AndNot(self.positive.whoosh(), self.negative.whoosh())


@dataclass(eq=False)
class Run(Node):
    """A run of 3 or more characters: the documents holding, verbatim in their folded text,
    the run itself, found where its bigrams follow one another (the runs files), or, in a
    segment without that file, among the documents holding all of its bigrams. The bigrams'
    postings score it."""

    text: str
    boost: float = 1.0

    def __post_init__(self):
        self.grams = And([Term(GRAMS, g) for g in query_grams(self.text)], boost=self.boost)

    def docs(self, evaluation, within):
        return evaluation.run(self.text, self.grams, within)

    def scores(self, evaluation, docs):
        matching = evaluation.docs(self, docs)
        return spread(self.grams.scores(evaluation, matching), matching, docs)

    def estimate(self, evaluation):
        return self.grams.estimate(evaluation)

    def whoosh(self):
        needle = self.text.encode("utf-8")
        keep = lambda raw: needle in raw  # noqa: E731
        return WhooshConfirmed(("run", self.text), keep, self.grams.whoosh())


def exact(piece, boost=1.0):
    """A node matching documents whose folded text holds the run `piece` as it stands."""
    if len(piece) == 1:
        return Term("chars", piece, boost=boost)
    if len(piece) == 2:
        return Term("grams", piece, boost=boost)
    return Run(piece, boost=boost)


@dataclass(eq=False)
class Phrase(Node):
    """A string that must occur as it stands, punctuation included (analysis.phrase_of):
    the documents holding each of its parts (analysis.phrase_parts), then, unless the phrase
    is one such part, the phrase itself confirmed in their folded text.

    Scored by its occurrences, BM25-style (saturating, normalised by the document's length):
    estimated from the bigrams' counts here; Occurrences counts them exactly for the best.
    """

    text: str
    boost: float = 1.0
    by_parts: bool = False  # scored as its parts are (the words reading), not by occurrences

    def __post_init__(self):
        parts = [exact(part, self.boost) for part in phrase_parts(self.text)]
        self.filter = (parts[0] if len(parts) == 1 else And(parts)) if parts else Every()
        self.plain = is_plain(self.text)

    def docs(self, evaluation, within):
        found = evaluation.docs(self.filter, within)
        return found if self.plain else evaluation.holding(self.text, found)

    def scores(self, evaluation, docs):
        matching = evaluation.docs(self, docs)
        if self.by_parts:
            return spread(self.filter.scores(evaluation, matching), matching, docs)
        counts = evaluation.estimated_occurrences(self.text, phrase_parts(self.text), matching)
        return spread(self.boost * self.bm25(evaluation, counts, matching), matching, docs)

    def bm25(self, evaluation, counts, docs):
        return _bm25(self, evaluation, counts, docs)

    def occurrences(self, evaluation, docs):
        if self.plain and len(self.text) == 2:
            # A bigram's postings count its occurrences exactly: no text need be read.
            return evaluation.estimated_occurrences(self.text, [self.text], docs)
        return evaluation.occurrences(self.text, docs)

    def titled(self, evaluation, docs):
        return evaluation.in_title([self.text], docs)

    def estimate(self, evaluation):
        return self.filter.estimate(evaluation)

    def whoosh(self):
        pattern = re.compile(phrase_pattern(self.text).encode("utf-8"))
        keep = lambda raw: pattern.search(raw) is not None  # noqa: E731
        return WhooshConfirmed(("phrase", self.text), keep, self.filter.whoosh())


def _bm25(node, evaluation, counts, docs):
    """BM25 over occurrences: saturating in `counts`, normalised by each document's length,
    weighted by how rare the node's matches are."""
    k1 = evaluation.searcher.weighting.K1
    weight = idf(evaluation.reader.doc_count(), len(evaluation.docs(node)))
    return weight * counts * (k1 + 1) / (counts + evaluation.length_norms()[docs])


@dataclass(eq=False)
class Alternatives(Node):
    """A string and strings that mean the same (its synonyms, a year in other numerals):
    documents holding any of them, their occurrences counted together."""

    phrases: list  # Phrase nodes, the string as typed first

    def docs(self, evaluation, within):
        return union([evaluation.docs(p, within) for p in self.phrases])

    def scores(self, evaluation, docs):
        return total([p.scores(evaluation, docs) for p in self.phrases], len(docs))

    def bm25(self, evaluation, counts, docs):
        return _bm25(self, evaluation, counts, docs)

    def occurrences(self, evaluation, docs):
        return total([p.occurrences(evaluation, docs) for p in self.phrases], len(docs))

    def titled(self, evaluation, docs):
        return np.max([p.titled(evaluation, docs) for p in self.phrases], axis=0)

    def estimate(self, evaluation):
        return sum(p.estimate(evaluation) for p in self.phrases)

    def whoosh(self):
        return wq.Or([p.whoosh() for p in self.phrases])


@dataclass(eq=False)
class Near(Node):
    """Two phrases in one paragraph (`unit` "paragraph") or one sentence ("sentence"): the
    documents holding both, confirmed in their folded text, unit by unit."""

    first: Phrase
    second: Phrase
    unit: str = "paragraph"

    def docs(self, evaluation, within):
        both = evaluation.docs(self.second, evaluation.docs(self.first, within))
        return evaluation.together(_texts(self.first), _texts(self.second), self.unit, both)

    def scores(self, evaluation, docs):
        matching = evaluation.docs(self, docs)
        parts = [self.first.scores(evaluation, matching), self.second.scores(evaluation, matching)]
        return spread(total(parts, len(matching)), matching, docs)

    def estimate(self, evaluation):
        return min(self.first.estimate(evaluation), self.second.estimate(evaluation))

    def whoosh(self):
        both = wq.And([self.first.whoosh(), self.second.whoosh()])
        near = (tuple(_texts(self.first)), tuple(_texts(self.second)), self.unit)
        keep = lambda raw: together(raw, *near)  # noqa: E731
        return WhooshConfirmed(("near", near), keep, both)


def _texts(node):
    """The strings a Phrase or Alternatives node finds."""
    return [p.text for p in node.phrases] if isinstance(node, Alternatives) else [node.text]


@dataclass(eq=False)
class Occurrences(Node):
    """The exact score of phrases at a few documents: each phrase's occurrences counted in the
    folded text, BM25-style, plus the title's weight where the title holds every phrase. For
    re-ranking the best matches only: it reads their text."""

    phrases: list  # Phrase or Alternatives nodes
    title_boost: float = 1.0

    def scores(self, evaluation, docs):
        scores = np.zeros(len(docs))
        for phrase in self.phrases:
            scores += phrase.bm25(evaluation, phrase.occurrences(evaluation, docs), docs)
        if self.phrases and self.title_boost:
            titled = np.min([p.titled(evaluation, docs) for p in self.phrases], axis=0)
            weights = sum(
                idf(evaluation.reader.doc_count(), len(evaluation.docs(p))) for p in self.phrases
            )
            scores += titled * self.title_boost * weights
        return scores


@dataclass(eq=False)
class Range(Node):
    """Keyword values from `start` to `end`, both included (years)."""

    field: str
    start: str
    end: str
    boost: float = 0.0

    def docs(self, evaluation, within):
        return union([evaluation.docs(term, within) for term in self.terms(evaluation)])

    def terms(self, evaluation):
        """A term for each value in the range, the values read from the term index once per
        index generation: Whoosh walks every segment's terms for them, and a filtered
        search asks four times."""

        def expand():
            return [text for _, text in self.whoosh().expanded_terms(evaluation.reader)]

        key = ("postings", "range", self.field, self.start, self.end)
        texts = cache.value(evaluation.searcher, key, expand, weight=2_000)
        return [Term(self.field, text) for text in texts]

    def estimate(self, evaluation):
        return sum(term.estimate(evaluation) for term in self.terms(evaluation))

    def whoosh(self):
        # Whoosh scores a range as 1 whatever its boost in some segments: the same for every
        # match, so never a change of order.
        return wq.TermRange(self.field, self.start, self.end, boost=self.boost)


class Every(Node):
    def docs(self, evaluation, within):
        return evaluation.every(within)

    def whoosh(self):
        return wq.Every()


@dataclass(eq=False)
class Plan:
    """What must match; what ranks the matches (or None: what matched, by its own scores);
    and what re-ranks the best of them (`rerank`: a node too costly for every match), its
    scores added to theirs, or (`replace`) taking their place."""

    matched: Node
    rank: Node | None = None
    rerank: Node | None = None
    replace: bool = False

    def whoosh(self):
        """The plan as one Whoosh query that matches and scores alike."""
        matched = self.matched.whoosh()
        return wq.AndMaybe(matched, self.rank.whoosh()) if self.rank else matched


class WhooshConfirmed(WrappingQuery):
    """A node as Whoosh's own searcher runs it: the matcher of its candidates (the child),
    kept where the folded text confirms them (`keep(raw bytes)`). Text indexed without the
    column is kept: a match is never lost there. `what` tells one node from another."""

    def __init__(self, what, keep, child):
        self.what, self.keep = what, keep
        super().__init__(child)

    @property
    def boost(self):
        return self.child.boost

    def _rewrap(self, child):
        return WhooshConfirmed(self.what, self.keep, child)

    def __eq__(self, other):
        return isinstance(other, WhooshConfirmed) and (self.what, self.child) == (
            other.what,
            other.child,
        )

    __hash__ = WrappingQuery.__hash__

    def matcher(self, searcher, context=None):
        texts = DocumentTexts(searcher.reader(), FOLDED)
        docs = self.child.docs(searcher)
        kept = {d for d in docs if (raw := texts.raw(d)) is None or self.keep(raw)}
        return FilterMatcher(self.child.matcher(searcher, context), kept)
