"""Collecting a plan's matches: the page's documents in order, with scores, and facet counts."""

from dataclasses import dataclass

import numpy as np

from .evaluation import Evaluation, as_docs
from .store import coded_column, dates

# Only this many best BM25 matches get the "whole run intact" bonus: it reads their text,
# far too slow at every match of a common word, and it matters on the first pages only.
RERANK = 50
# "date" is newest first (the name links and the API have used since the start).
SORTS = ("relevance", "date", "oldest")


@dataclass
class Collected:
    matches: np.ndarray  # every matching docnum, ascending
    page: int  # the page shown: the one asked for, within the pages there are
    docs: list  # the page's docnums, in order
    scores: list  # their scores


def collect(searcher, plan, *, page, page_size, sort="relevance", evaluation=None):
    """Every match of `plan`, and the docnums of page `page` in the order of `sort`;
    `evaluation`: one that has evaluated the plan already (its matches are not found again)."""
    evaluation = evaluation or Evaluation(searcher)
    matches = evaluation.docs(plan.matched)
    page = max(1, min(page, -(-len(matches) // page_size)))
    start, end = (page - 1) * page_size, page * page_size
    if sort in ("date", "oldest"):
        docs = _by_date(searcher, matches, oldest=sort == "oldest")[start:end].tolist()
        shown = np.sort(np.array(docs, dtype=np.int64))
        scores = dict(zip(shown.tolist(), evaluation.ranking(plan, shown).tolist(), strict=True))
        final = rescored(evaluation, plan, docs, scores)
    else:
        ranking = evaluation.ranking(plan, matches)
        # Whoosh's order: best score first, then lowest docnum.
        best = np.lexsort((matches, -ranking))[: max(end, RERANK)]
        ranked = matches[best].tolist()
        scores = dict(zip(ranked, ranking[best].tolist(), strict=True))
        # The re-ranking reorders the best only: it reads their text.
        final = scores | rescored(evaluation, plan, ranked[:RERANK], scores)
        head = sorted(ranked[:RERANK], key=lambda d: -final[d])
        docs = (head + ranked[RERANK:])[start:end]
    return Collected(matches, page, docs, [final[d] for d in docs])


def _by_date(searcher, matches, *, oldest):
    """The matches newest (or oldest) first, undated ones last either way, then by docnum."""
    found = dates(searcher)[matches]  # 0: no date
    key = np.where(found == 0, np.iinfo(np.int64).max, found) if oldest else -found
    return matches[np.lexsort((matches, key))]


def rescored(evaluation, plan, docnums, scores):
    """{docnum: its score once the plan's re-ranking is added (or put in its place)} for each
    of `docnums`, `scores` their scores so far. Checked at those documents only: the
    re-ranking reads their text, far too slow at every match of a common word."""
    if plan.rerank is None or not docnums:
        return {d: scores[d] for d in docnums}
    docs = as_docs(docnums)
    extra = dict(zip(docs.tolist(), plan.rerank.scores(evaluation, docs).tolist(), strict=True))
    return {d: extra[d] if plan.replace else scores[d] + extra[d] for d in docnums}


def facet_counts(searcher, matches, names):
    """{facet: [(index value, count)]} over `matches`, values that occur only."""
    counts = {}
    for name in names:
        column = coded_column(searcher, name)
        found = np.bincount(column.codes[matches], minlength=len(column.values)).tolist()
        counts[name] = [
            (value, count)
            for value, count in zip(column.values, found, strict=True)
            if value is not None and count
        ]
    return counts
