"""What test_vocabulary_processes.py reads from its processes' database and index, in a child
process: `python -m search.tests.vocabulary_roles ROLE ARGS...` prints JSON."""

import json
import sys

import django

from .processes import run


def role(env, name, *args):
    out = run(env, "-m", "search.tests.vocabulary_roles", name, *args).stdout
    return json.loads(out.strip().splitlines()[-1])


def _holders(term):
    """{substring of term: ids of the published addresses whose title or a paragraph holds
    it}: the truth, from the database, folded as search folds."""
    from search.engine.analysis import fold
    from speeches.models import Speech

    texts = {
        s.pk: [fold(s.title), *(fold(p.text) for p in s.paragraphs.all())]
        for s in Speech.objects.published().prefetch_related("paragraphs")
    }
    pieces = {term[i:j] for i in range(len(term)) for j in range(i + 1, len(term) + 1)}
    return {
        piece: sorted(pk for pk, parts in texts.items() if any(piece in t for t in parts))
        for piece in pieces
    }


def _word(term):
    """{id: score} of the addresses the index holds `term` for as one jieba word, scored by
    Whoosh itself as the words reading ranks a one-word query (text, and title doubled)."""
    from search.connection import backend
    from search.engine.query.build import TITLE_BOOST
    from search.engine.query.plan import Or, Term

    query = Or([Term("text", term), Term("title", term, boost=TITLE_BOOST)]).whoosh()
    hits = backend().searcher().search(query, limit=None)
    return {hit["django_id"]: hit.score for hit in hits}


def _scores(query):
    """{id: score} of the results page's plan for `query` in the words reading, cut with the
    vocabulary as it is now and scored by Whoosh's own searcher."""
    from search import vocabulary
    from search.connection import backend
    from search.engine.query import build_plan, parse

    vocabulary.refresh()
    plan = build_plan(parse(query, match="words"))
    hits = backend().searcher().search(plan.whoosh(), limit=None)
    return {hit["django_id"]: hit.score for hit in hits}


def _queued():
    from search.models import IndexTask

    return sorted(IndexTask.objects.values_list("speech_id", flat=True))


ROLES = {"holders": _holders, "word": _word, "scores": _scores, "queued": _queued}

if __name__ == "__main__":
    django.setup()
    name, *arguments = sys.argv[1:]
    print(json.dumps(ROLES[name](*arguments), ensure_ascii=False))
