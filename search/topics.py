"""Keywords and related addresses, computed from the index and stored with each address
(speeches.services.set_topics): never on a reader's request. The indexer keeps them current:
new addresses get theirs as soon as they are indexed, and all are computed again when the
archive has grown by a twentieth since the last time (the IDF has moved)."""

from speeches import services

from . import vocabulary
from .engine.analysis import fold
from .engine.topics import keywords_of, related_to
from .models import TopicsState
from .queue import backend

BATCH = 200
GROWTH = 1.05


def compute(*, speech_ids=None):
    """Compute and store the topics of these published speeches (all if None); how many."""
    searcher = backend().searcher()
    if searcher is None:
        return 0
    docnums = _docnums(searcher, speech_ids)
    preferred = {fold(w) for w in vocabulary.words()}
    topics = {}
    for pk, docnum in docnums.items():
        words = keywords_of(searcher, docnum, preferred=preferred)
        related = related_to(searcher, docnum, words)
        topics[pk] = (words, [int(searcher.stored_fields(d)["django_id"]) for d in related])
    services.set_topics(topics=topics)
    return len(topics)


def catch_up():
    """One step of the indexer's topic work, when it has nothing else to do: addresses with
    no keywords yet, or the next batch of a recomputation that is due; how many."""
    from speeches.models import Speech

    published = Speech.objects.published()
    fresh = list(published.filter(keywords=[]).values_list("pk", flat=True)[:BATCH])
    state = TopicsState.current()
    total = published.count()
    if state.cursor is None and total >= max(1, state.documents) * GROWTH:
        state.cursor = 0
    if state.cursor is not None:
        batch = list(
            published.filter(pk__gt=state.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        fresh += batch
        state.cursor = batch[-1] if len(batch) == BATCH else None
        if state.cursor is None:
            state.documents = total
        state.save()
    return compute(speech_ids=sorted(set(fresh))) if fresh else 0


def _docnums(searcher, speech_ids):
    if speech_ids is None:
        return {
            int(fields["django_id"]): docnum
            for docnum, fields in searcher.reader().iter_docs()
            if fields.get("django_ct") == "speeches.speech"
        }
    found = {pk: searcher.document_number(django_id=str(pk)) for pk in speech_ids}
    return {pk: docnum for pk, docnum in found.items() if docnum is not None}
