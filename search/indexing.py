"""Keeping the index equal to the published addresses, through one writer.

Web requests only enqueue IndexTasks (search.signals). `drain()` turns tasks into index
writes; `run_indexer` calls it in a loop and is the only long-lived writer. Every write
holds the backend's file lock, and each speech's state is read from the database while the
lock is held, so a slower writer can never overwrite a newer state with an older one.
"""

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from django.db import close_old_connections
from django.db import connections as db_connections
from haystack import connections

from speeches.models import Speech

from .backend import WRITER_OPTIONS, exclusive_file_lock, field_postings, prepared
from .models import IndexTask, enqueue

BATCH = 200
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def backend():
    return connections["default"].get_backend()


def speech_index():
    return connections["default"].get_unified_index().get_index(Speech)


def indexer_lock():
    """Held by a running indexer, so that a second one refuses to start."""
    return exclusive_file_lock(f"{backend().writer_lock_path}.indexer", blocking=False)


def drain(*, batch=BATCH):
    """Apply every queued task; return how many speeches were written or removed."""
    done = 0
    while True:
        tasks = list(IndexTask.objects.order_by("pk").values_list("pk", "speech_id")[:batch])
        if not tasks:
            return done
        speech_ids = sorted({speech_id for _, speech_id in tasks})
        sync(speech_ids)
        IndexTask.objects.filter(pk__in=[pk for pk, _ in tasks]).delete()
        done += len(speech_ids)


def sync(speech_ids):
    """Make the index match the database for these speeches, in one commit."""
    index, engine = speech_index(), backend()
    with engine.writer_lock():
        published = {
            s.pk: s
            for s in index.index_queryset()
            .select_related("speaker", "organization", "event")
            .filter(pk__in=speech_ids)
        }
        gone = [_identifier(pk) for pk in speech_ids if pk not in published]
        docs = [index.full_prepare(s) for s in published.values()]
        engine.apply(index, update=docs, delete=gone)


def _identifier(pk):
    return f"speeches.speech.{pk}"


# -- rebuild ------------------------------------------------------------------------------


def rebuild(*, progress=None, workers=None):
    """Replace the whole index with the published speeches, in one atomic commit.

    jieba runs in worker processes; this process is the one writer. Searches see the old
    index until the commit. Tasks queued meanwhile are applied by the next drain.
    """
    from whoosh.writing import CLEAR

    index, engine = speech_index(), backend()
    ids = list(index.index_queryset().order_by("pk").values_list("pk", flat=True))
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    with engine.writer_lock():
        if not engine.setup_complete:
            engine.setup()
        writer = engine.index.refresh().writer(**WRITER_OPTIONS, limitmb=256)
        try:
            for batch in _tokenized_batches(ids, workers):
                for doc, postings in batch:
                    with prepared(postings):
                        writer.add_document(**doc)
                if progress:
                    progress(len(batch))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR)
        engine.reset_searcher()
    return len(ids)


def _tokenized_batches(ids, workers, size=25):
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    if workers <= 1 or len(chunks) <= 1:
        yield from map(_prepare_and_tokenize, chunks)
        return
    # Children must open their own database connections.
    db_connections.close_all()
    # Fork, named: the workers inherit the loaded settings and jieba, and _start_worker checks
    # that the rebuild is their parent (under forkserver it would not be).
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    ) as pool:
        pending = deque()
        for chunk in chunks:
            pending.append(pool.submit(_prepare_and_tokenize, chunk))
            # A bounded window: the writer, not memory, sets the pace.
            if len(pending) >= workers * 3:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _start_worker(parent_pid):
    """A tokenizer worker dies with the rebuild that forked it: a SIGKILLed rebuild must not
    leave idle workers holding memory and database connections."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the workers end with their task queue
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    close_old_connections()


def _prepare_and_tokenize(chunk):
    """Documents and their postings (jieba, grams), computed in a worker process."""
    index, engine = speech_index(), backend()
    _, schema = engine.build_schema(connections["default"].get_unified_index().all_searchfields())
    qs = index.index_queryset().select_related("speaker", "organization", "event")
    out = []
    for speech in qs.filter(pk__in=chunk).order_by("pk"):
        doc = engine.whoosh_document(index.full_prepare(speech))
        out.append((doc, field_postings(schema, doc)))
    return out


# -- drift ---------------------------------------------------------------------------------


@dataclass
class Drift:
    missing: list
    extra: list
    stale: list

    @property
    def total(self):
        return len(self.missing) + len(self.extra) + len(self.stale)


def check():
    """Compare the index with the published speeches in the database."""
    index, engine = speech_index(), backend()
    expected = {
        pk: _stamp(updated)
        for pk, updated in index.index_queryset().values_list("pk", "updated_at")
    }
    searcher = engine.searcher()
    found = {}
    for fields in searcher.all_stored_fields() if searcher else ():
        if fields.get("django_ct") == "speeches.speech":
            found[int(fields["django_id"])] = fields.get("updated", "")
    return Drift(
        missing=sorted(set(expected) - set(found)),
        extra=sorted(set(found) - set(expected)),
        stale=sorted(pk for pk in set(expected) & set(found) if expected[pk] != found[pk]),
    )


def _stamp(value):
    return value.isoformat() if value else ""


def repair(drift):
    ids = [*drift.missing, *drift.extra, *drift.stale]
    enqueue(ids)
    return ids
