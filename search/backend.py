"""haystack's stock Whoosh backend with three changes.

- The schema follows our fields: analyzed text is not stored and gets no sort column (the
  body lives in the database), no field keeps positions, the folded text and its word
  lengths are columns of their own, and filter/facet values are exact IDs with columns.
- Every write holds one file lock, so writers queue instead of raising LockError, and
  several changes go out in one commit (`apply`).
- highlight() marks matches with our own snippet code instead of a StemmingAnalyzer.
"""

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from haystack.backends.whoosh_backend import WhooshEngine, WhooshSearchBackend, WhooshSearchQuery
from haystack.constants import ID
from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, TEXT
from whoosh.fields import ID as WHOOSH_ID
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

_held = threading.local()
# Whoosh 2.7 copies each file of a compound segment into memory when a searcher opens it
# (BufferFile wraps the mmap in BytesIO): hundreds of MB per web worker. Plain segment files
# are read through the OS page cache instead.
WRITER_OPTIONS = {"timeout": 30, "compound": False}


@contextmanager
def exclusive_file_lock(path, *, blocking=True):
    """flock on `path`; re-entrant within a thread. Yields False if not blocking and taken."""
    depth = getattr(_held, str(path), 0)
    if depth:
        setattr(_held, str(path), depth + 1)
        try:
            yield True
        finally:
            setattr(_held, str(path), depth)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            yield False
            return
        setattr(_held, str(path), 1)
        try:
            yield True
        finally:
            setattr(_held, str(path), 0)
            fcntl.flock(handle, fcntl.LOCK_UN)


class TextColumn(COLUMN):
    """Text kept as UTF-8 in a per-document column: not indexed, not stored, read by docnum."""

    def __init__(self):
        super().__init__(VarBytesColumn())

    def to_bytes(self, value):
        return value.encode("utf-8") if isinstance(value, str) else value


class PositionalFileStorage(FileStorage):
    """FileStorage whose files answer Whoosh's reads at a position (every term lookup and
    block) with one pread system call, instead of a seek and a buffered read."""

    def open_file(self, name, **kwargs):
        opened = super().open_file(name, **kwargs)
        return _PositionalFile(opened.file, name=name, **kwargs)


class _PositionalFile(StructFile):
    def get(self, position, length):
        return os.pread(self.file.fileno(), length, position)


class ChineseWhooshSearchBackend(WhooshSearchBackend):
    def __init__(self, connection_alias, **options):
        super().__init__(connection_alias, **options)
        self._searcher = None
        self._searcher_lock = threading.Lock()

    def setup(self):
        super().setup()
        if self.use_file_storage:
            self.storage = PositionalFileStorage(self.path)
            self.index = self.storage.open_index(schema=self.schema)

    @property
    def writer_lock_path(self):
        # Beside the index directory, so that clearing the index never removes the lock.
        return f"{os.path.normpath(self.path)}.writer.lock"

    def writer_lock(self):
        return exclusive_file_lock(self.writer_lock_path)

    def build_schema(self, fields):
        content_field_name, schema = super().build_schema(fields)
        for field in fields.values():
            name = field.index_fieldname
            if field.field_type == "keyword":
                _replace(schema, name, WHOOSH_ID(stored=True, sortable=True))
            elif field.field_type == "column":
                _replace(schema, name, TextColumn())
            elif field.field_type == "analyzed":
                text = TEXT(
                    analyzer=field.analyzer,
                    stored=field.stored,
                    phrase=False,
                    field_boost=field.boost,
                )
                _replace(schema, name, text)
        return content_field_name, schema

    def update(self, index, iterable, commit=True):
        with self.writer_lock():
            super().update(index, iterable, commit=commit)

    def remove(self, obj_or_string, commit=True):
        with self.writer_lock():
            super().remove(obj_or_string, commit=commit)

    def clear(self, models=None, commit=True):
        with self.writer_lock():
            super().clear(models=models, commit=commit)
        self.reset_searcher()

    def apply(self, index, *, update=(), delete=()):
        """Write several documents and deletions in one commit. Callers hold writer_lock()."""
        if not self.setup_complete:
            self.setup()
        self.index = self.index.refresh()
        writer = self.index.writer(**WRITER_OPTIONS)
        try:
            for identifier in delete:
                writer.delete_by_term(ID, identifier)
            for doc in update:
                writer.update_document(**self.whoosh_document(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def whoosh_document(self, prepared):
        doc = {key: self._from_python(value) for key, value in prepared.items()}
        doc.pop("boost", None)
        return doc

    def searcher(self):
        """A searcher shared by this process's requests, reopened when the index changed.

        None while no index exists: readers never create one, only writers do.
        """
        if not self.setup_complete:
            if self.use_file_storage and not whoosh_index.exists_in(self.path):
                return None
            self.setup()
        with self._searcher_lock:
            if self._searcher is None:
                self.index = self.index.refresh()
                self._searcher = self.index.searcher()
            else:
                self._searcher = self._searcher.refresh()
            return self._searcher

    def reset_searcher(self):
        with self._searcher_lock:
            self._searcher = None

    def search(self, query_string, highlight=False, **kwargs):
        results = super().search(query_string, highlight=False, **kwargs)
        if highlight and results.get("results"):
            from .results import highlight_results

            highlight_results(results["results"], query_string, self.content_field_name)
        return results


def _replace(schema, name, fieldtype):
    schema.remove(name)
    schema.add(name, fieldtype)


class ChineseWhooshEngine(WhooshEngine):
    backend = ChineseWhooshSearchBackend
    query = WhooshSearchQuery
