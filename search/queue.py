"""Keeping the index equal to the published addresses, through one writer: the queue.

Web requests only enqueue IndexTasks (search.signals). `drain()` turns tasks into index
writes; `run_indexer` calls it in a loop and is the only long-lived writer. Every write
holds the backend's file lock, and each speech's state is read from the database while the
lock is held, so a slower writer can never overwrite a newer state with an older one.
"""

from django.conf import settings

from . import vocabulary
from .connection import backend, own_engine, speech_index
from .engine.store import exclusive_file_lock
from .models import IndexTask, enqueue

BATCH = 200


def writer_lock():
    """Held by every index write (another engine's as well: one writer at a time)."""
    return exclusive_file_lock(_lock_path())


def indexer_lock():
    """Held by a running indexer, so that a second one refuses to start."""
    return exclusive_file_lock(f"{_lock_path()}.indexer", blocking=False)


def _lock_path():
    engine = backend()
    return (
        engine.writer_lock_path if own_engine(engine) else settings.DATA_DIR / "index.writer.lock"
    )


def drain(*, batch=BATCH):
    """Apply every queued task; return how many speeches were written or removed."""
    done = 0
    while True:
        tasks = list(IndexTask.objects.order_by("pk").values_list("pk", "speech_id")[:batch])
        if not tasks:
            return done
        speech_ids = sorted({speech_id for _, speech_id in tasks})
        # Read after the tasks: a vocabulary change commits with the tasks it queues.
        words = vocabulary.refresh()
        sync(speech_ids)
        if vocabulary.changed_since(words):
            # Cut with the words of before a change that committed meanwhile: once more.
            enqueue(speech_ids)
        IndexTask.objects.filter(pk__in=[pk for pk, _ in tasks]).delete()
        done += len(speech_ids)


def sync(speech_ids):
    """Make the index match the database for these speeches, in one commit."""
    index, engine = speech_index(), backend()
    with writer_lock():
        published = {
            s.pk: s
            for s in index.index_queryset()
            .select_related("speaker", "organization", "event")
            .filter(pk__in=speech_ids)
        }
        gone = [_identifier(pk) for pk in speech_ids if pk not in published]
        if not own_engine(engine):
            engine.update(index, published.values())
            for identifier in gone:
                engine.remove(identifier)
            return
        docs = [index.full_prepare(s) for s in published.values()]
        engine.apply(index, update=docs, delete=gone)


def _identifier(pk):
    return f"speeches.speech.{pk}"
