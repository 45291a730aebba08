"""Keywords and related addresses, computed from the index and stored with each address
(speeches.services.set_topics): never on a reader's request. The indexer keeps them current:
new addresses get theirs as soon as they are indexed, and all are computed again when the
archive has grown by a twentieth since the last time (the IDF has moved)."""

import time

from speeches import services
from speeches.models import Speech

from . import service as search_service
from . import vocabulary
from .engine.analysis import fold
from .engine.topics import keywords_of, related_to
from .models import TopicsState

BATCH = 200
GROWTH = 1.05
# The indexer's topic work between two looks at its queue: a change waiting to be indexed is
# never held up longer than this.
SLICE_S = 0.1


def compute(*, speech_ids=None, seconds=None):
    """Compute and store the topics of these published speeches (all if None), in order, or
    of as many of them as `seconds` allow; the ids done."""
    searcher = search_service.own_searcher()
    if searcher is None:
        return []
    docnums = _docnums(searcher, speech_ids)
    preferred = {fold(w) for w in vocabulary.words()}
    topics, start = {}, time.monotonic()
    for pk, docnum in docnums.items():
        if seconds is not None and topics and time.monotonic() - start > seconds:
            break
        words = keywords_of(searcher, docnum, preferred=preferred)
        related = related_to(searcher, docnum, words)
        topics[pk] = (words, search_service.speech_ids(searcher, related))
    services.set_topics(topics=topics)
    return list(topics)


def compute_all():
    """Every published address's topics now, and the archive's size remembered as the one they
    were computed for; how many."""
    done = len(compute())
    TopicsState.objects.update_or_create(
        pk=1, defaults={"documents": Speech.objects.published().count(), "cursor": None}
    )
    return done


def catch_up():
    """One slice of the indexer's topic work, when it has nothing else to do: addresses with
    no keywords yet first, then the next of a recomputation that is due; how many were done."""
    published = Speech.objects.published()
    fresh = list(published.filter(keywords__isnull=True).values_list("pk", flat=True)[:BATCH])
    state = TopicsState.current()
    total = published.count()
    if state.cursor is None and total >= max(1, state.documents) * GROWTH:
        state.cursor = 0
    batch = []
    if state.cursor is not None:
        after = published.filter(pk__gt=state.cursor).exclude(pk__in=fresh).order_by("pk")
        batch = list(after.values_list("pk", flat=True)[:BATCH])
    done = compute(speech_ids=fresh + batch, seconds=SLICE_S) if fresh or batch else []
    if state.cursor is not None:
        finished = [pk for pk in batch if pk in set(done)]
        if len(finished) == len(batch) and len(batch) < BATCH:
            state.cursor, state.documents = None, total
        elif finished:
            state.cursor = finished[-1]
        state.save()
    return len(done)


def _docnums(searcher, speech_ids):
    if speech_ids is None:
        return {
            int(fields["django_id"]): docnum
            for docnum, fields in searcher.reader().iter_docs()
            if fields.get("django_ct") == "speeches.speech"
        }
    found = {pk: searcher.document_number(django_id=str(pk)) for pk in speech_ids}
    return {pk: docnum for pk, docnum in found.items() if docnum is not None}
