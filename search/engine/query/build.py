"""From a parsed query (syntax.ParsedQuery) to a plan (plan.Plan).

Exact reading (the default): each string is a Phrase that must occur as it stands, and the
matches rank by how often the phrases occur (BM25-style over their occurrences, the title
counting where it holds the whole query). Words reading: exact clauses decide what matches and
jieba words (BM25, as Whoosh scores them) decide the order, runs found intact ranking higher.
"""

import math

from ..analysis import CJK_RUN, GRAM_RUN, jieba_words, word_counts
from .plan import (
    And,
    AndNot,
    Every,
    Near,
    Occurrences,
    Or,
    Phrase,
    Plan,
    Range,
    Run,
    Term,
    exact,
)
from .syntax import NearTerm

GRAM_BOOST = 0.3
TITLE_BOOST = 2.0
# Words of an address that say what it is about, for "more like this".
LIKE_WORDS = 12


def build_plan(parsed, *, keywords=()):
    """The plan of `parsed`, narrowed by `keywords`: (index field, values) pairs, each pair's
    values alternatives, every pair required (facets clicked, names resolved to ids)."""
    words = parsed.match == "words"
    nodes = {id(t): _term_node(t, words=words) for t in parsed.positive_terms + parsed.excluded}
    required = [_any(group, lambda t: nodes[id(t)]) for group in parsed.groups]
    required += [
        _any(values, lambda v, f=field: Term(f, v, boost=0.0)) for field, values in keywords
    ]
    if parsed.year_ranges:
        required.append(
            _any(parsed.year_ranges, lambda r: Range("year", f"{r[0]:04d}", f"{r[1]:04d}"))
        )
    matched = And(required) if required else Every()
    if parsed.excluded:
        matched = AndNot(matched, Or([nodes[id(t)] for t in parsed.excluded]))
    if words:
        return Plan(matched, *_word_rank(parsed))
    phrases = [p for t in parsed.positive_terms for p in _phrase_nodes(nodes[id(t)])]
    rerank = Occurrences(phrases, title_boost=TITLE_BOOST) if phrases else None
    return Plan(matched, rerank=rerank, replace=True)


def _any(items, node):
    nodes = [node(item) for item in items]
    return nodes[0] if len(nodes) == 1 else Or(nodes)


def _phrase_nodes(node):
    return [node.first, node.second] if isinstance(node, Near) else [node]


def _term_node(term, *, words):
    if isinstance(term, NearTerm):
        first, second = (_term_node(t, words=False) for t in (term.first, term.second))
        return Near(first, second, term.unit)
    if term.phrase:
        # In the words reading a quoted phrase ranks as its parts do, as Whoosh scores them.
        return Phrase(term.phrase, boost=GRAM_BOOST if words else 1.0, by_parts=words)
    parts = [exact(p, GRAM_BOOST) for p in term.pieces]
    return parts[0] if len(parts) == 1 else And(parts)


def _word_rank(parsed):
    """(BM25 over jieba words or None, the runs whose intact occurrence ranks a match higher)."""
    tokens = []
    for term in parsed.positive_terms:
        for piece in term.pieces:
            tokens += [w for w, _, _ in jieba_words(piece)]
    tokens = list(dict.fromkeys(tokens))
    clauses = [Term("text", t) for t in tokens]
    clauses += [Term("title", t, boost=TITLE_BOOST) for t in tokens]
    # Unquoted words were split by jieba; the whole run occurring intact ranks higher.
    runs = [
        "".join(t.pieces)
        for t in parsed.positive_terms
        if not t.phrase and not isinstance(t, NearTerm) and len(t.pieces) > 1
    ]
    runs = [Run(r) for r in runs if GRAM_RUN.fullmatch(r)]
    return (Or(clauses) if clauses else None), (Or(runs) if runs else None)


def like_plan(searcher, folded):
    """A plan finding documents like the folded text `folded`: its words of two or more
    Chinese characters weighted by occurrences × IDF in the index, the best LIKE_WORDS ORed;
    None if none occurs in another document."""
    reader = searcher.reader()
    documents = reader.doc_count()
    scored = []
    for word, occurrences in word_counts(folded).items():
        if len(word) < 2 or not CJK_RUN.fullmatch(word):
            continue
        frequency = reader.doc_frequency("text", word)
        if frequency > 1:
            scored.append((occurrences * math.log(documents / frequency), word))
    words = [word for _, word in sorted(scored, reverse=True)[:LIKE_WORDS]]
    return Plan(Or([Term("text", w) for w in words])) if words else None
