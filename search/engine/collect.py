"""Collecting a plan's matches: the page's documents in order, with scores, and facet counts."""

from dataclasses import dataclass

import numpy as np

from .evaluation import Evaluation, as_docs
from .query.plan import Run
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


def collect(searcher, plan, *, page, page_size, sort="relevance"):
    """Every match of `plan`, and the docnums of page `page` in the order of `sort`."""
    evaluation = Evaluation(searcher)
    matches = evaluation.docs(plan.matched)
    page = max(1, min(page, -(-len(matches) // page_size)))
    start, end = (page - 1) * page_size, page * page_size
    if sort in ("date", "oldest"):
        docs = _by_date(searcher, matches, oldest=sort == "oldest")[start:end].tolist()
        shown = np.sort(np.array(docs, dtype=np.int64))
        scores = dict(zip(shown.tolist(), evaluation.ranking(plan, shown).tolist(), strict=True))
        bonus = intact_bonus(searcher, plan.runs, docs, evaluation=evaluation)
    else:
        ranking = evaluation.ranking(plan, matches)
        # Whoosh's order: best score first, then lowest docnum.
        best = np.lexsort((matches, -ranking))[: max(end, RERANK)]
        ranked = matches[best].tolist()
        scores = dict(zip(ranked, ranking[best].tolist(), strict=True))
        bonus = intact_bonus(searcher, plan.runs, ranked[:RERANK], evaluation=evaluation)
        # The bonus for whole runs reorders the best only: the check reads their text.
        head = sorted(ranked[:RERANK], key=lambda d: -(scores[d] + bonus.get(d, 0.0)))
        docs = (head + ranked[RERANK:])[start:end]
    return Collected(matches, page, docs, [scores[d] + bonus.get(d, 0.0) for d in docs])


def _by_date(searcher, matches, *, oldest):
    """The matches newest (or oldest) first, undated ones last either way, then by docnum."""
    found = dates(searcher)[matches]  # 0: no date
    key = np.where(found == 0, np.iinfo(np.int64).max, found) if oldest else -found
    return matches[np.lexsort((matches, key))]


def intact_bonus(searcher, runs, docnums, *, evaluation=None):
    """{docnum: what Run(run) (its bigrams' scores, where the run is intact) adds there},
    for each of `docnums` and all of `runs`.

    Checked at those documents only: reading the text of every match of a common word would
    cost far more, and the bonus matters on the first pages only.
    """
    evaluation = evaluation or Evaluation(searcher)
    docs = as_docs(docnums)
    bonus = sum(Run(run).scores(evaluation, docs) for run in runs)
    return dict(zip(docs.tolist(), bonus.tolist(), strict=True)) if runs else {}


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
