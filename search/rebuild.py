"""Rebuilding the whole index at once, in worker processes (search.engine.codec writes)."""

import ctypes
import gc
import multiprocessing
import os
import signal
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

from django.db import close_old_connections
from django.db import connections as db_connections

from . import names, vocabulary
from .connection import backend, own_engine, speech_index
from .documents import with_searchable_texts
from .engine import runs
from .engine.analysis import load_for_indexing
from .engine.codec import BulkSegmentWriter, CommitWriter
from .engine.store import WRITER_OPTIONS
from .queue import writer_lock

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def rebuild(*, progress=None, workers=None):
    """Replace the whole index with the published speeches, in one atomic commit.

    Worker processes take batches of speeches in turn, so that they finish together; each
    analyzes its batches and writes them as one segment of its own (search.engine.codec). This
    process then commits the segments together, as whoosh.multiproc's writers do. Searches
    see the old index until the commit. Tasks queued meanwhile are applied by the next drain.
    """
    from whoosh.writing import CLEAR

    index, engine = speech_index(), backend()
    names.index_all()  # the name filters' table too, for a database filled without signals
    if not own_engine(engine):
        return _rebuild_other_engine(index, engine, progress)
    vocabulary.refresh()  # the workers fork with this process's jieba
    load_for_indexing()
    with writer_lock():
        # Read under the lock: a drain finishing between this read and the lock would
        # have its speeches cleared by this commit, and its tasks gone.
        ids = list(index.index_queryset().order_by("pk").values_list("pk", flat=True))
        batches = Batches([ids[i : i + REBUILD_BATCH] for i in range(0, len(ids), REBUILD_BATCH)])
        workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        workers = max(1, min(workers, len(batches.lists)))
        if not engine.setup_complete:
            engine.setup()
        writer = CommitWriter(engine.index.refresh(), **WRITER_OPTIONS)
        try:
            segments = _write_segments(batches, workers, progress)
            writer.commit_segments([s for s in segments if s.doc_count_all()], CLEAR)
        except BaseException:
            writer.cancel()
            raise
        runs.write_missing(engine.index.refresh())  # those a worker failed to write
        engine.reset_searcher()
    return len(ids)


def _rebuild_other_engine(index, engine, progress):
    """Another haystack engine (search.other_engines) is cleared and written in batches."""
    with writer_lock():
        ids = list(index.index_queryset().order_by("pk").values_list("pk", flat=True))
        engine.clear()
        qs = index.index_queryset().select_related("speaker", "organization", "event")
        for start in range(0, len(ids), REBUILD_BATCH):
            batch = ids[start : start + REBUILD_BATCH]
            engine.update(index, qs.filter(pk__in=batch))
            if progress:
                progress(len(batch))
    return len(ids)


# Speeches per batch: small enough that the workers finish within a batch of each other.
REBUILD_BATCH = 50


class Batches:
    """Batches of speech ids that processes take in turn, and how many speeches are done.
    The counters live in shared memory, which forked workers inherit."""

    def __init__(self, lists):
        self.lists = lists
        context = multiprocessing.get_context("fork")
        self.taken, self.done = context.Value("i", 0), context.Value("i", 0)

    def take(self):
        """The next batch, or None when none is left."""
        with self.taken.get_lock():
            i = self.taken.value
            self.taken.value += 1
        return self.lists[i] if i < len(self.lists) else None

    def stop(self):
        with self.taken.get_lock():
            self.taken.value = len(self.lists)

    def finished(self, count):
        with self.done.get_lock():
            self.done.value += count


def _write_segments(batches, workers, progress):
    """One segment per worker (written here if there is just one)."""
    if workers == 1:
        return [_write_segment(batches, progress)]
    # Children must open their own database connections.
    db_connections.close_all()
    # Fork, named: the workers inherit the loaded settings and jieba, and _start_worker checks
    # that the rebuild is their parent (under forkserver it would not be).
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(), batches),
    ) as pool:
        futures = [pool.submit(_write_segment) for _ in range(workers)]
        reported = 0
        while True:
            finished, pending = wait(futures, timeout=0.5, return_when=FIRST_EXCEPTION)
            reported = _report(progress, batches.done.value, reported)
            if any(f.exception() for f in finished):
                batches.stop()  # the others finish the batch they have, and stop
            if not pending or any(f.exception() for f in finished):
                break
        return [f.result() for f in futures]


def _report(progress, done, reported):
    if progress and done > reported:
        progress(done - reported)
    return done


_batches = None


def _start_worker(parent_pid, batches):
    """A worker dies with the rebuild that forked it: a SIGKILLed rebuild must not leave
    workers holding memory and database connections."""
    global _batches
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the workers end with their task queue
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    _batches = batches
    close_old_connections()


def _write_segment(batches=None, progress=None):
    """Take batches until none is left; write their speeches as one new segment."""
    batches = batches or _batches
    index, engine = speech_index(), backend()
    writer = BulkSegmentWriter(engine.index.refresh(), _lk=False, **WRITER_OPTIONS)
    qs = index.index_queryset().prefetch_related(None)
    qs = qs.select_related("speaker", "organization", "event").order_by("pk")
    # Without the cyclic garbage collector, which would walk jieba's dictionary and the
    # writer's growing columns again and again (a tenth of the rebuild's time); the few
    # cycles made meanwhile go with the worker. (On failure the files written so far belong
    # to no commit: the next commit removes them.)
    gc.disable()
    try:
        while (batch := batches.take()) is not None:
            for speech in with_searchable_texts(qs.filter(pk__in=batch)):
                writer.add_document(**engine.whoosh_document(index.full_prepare(speech)))
            batches.finished(len(batch))
            if progress:
                progress(len(batch))
        segment = writer.finish_segment()
        runs.write_segment(engine.index, segment)
        return segment
    finally:
        gc.enable()
