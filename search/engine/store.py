"""What an index holds beside its postings, and how writers take turns.

- Per-document columns: the folded text (where a run is confirmed and snippets are found),
  its word lengths, and the facet and date values, read by document number.
- BM25's length part of every document, computed once per index generation.
- One file lock for every writer, so that writers queue instead of raising LockError.
"""

import fcntl
import threading
from array import array
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN

from .cache import cache
from .codec import column_values

# Whoosh 2.7 copies each file of a compound segment into memory when a searcher opens it
# (BufferFile wraps the mmap in BytesIO): hundreds of MB per web worker. Plain segment files
# are read through the OS page cache instead.
WRITER_OPTIONS = {"timeout": 30, "compound": False}
# Columns of each document's folded searchable text, of its word lengths, of its body's
# length in characters, and of the folded text before its body; and "1" in CHARS_COUNTED
# where its `chars` postings count each character's occurrences (written since they do).
FOLDED, WORDS, BODY_CHARS, HEAD = "folded", "words", "body_chars", "head"
CHARS_COUNTED = "chars_counted"
# No date: None, or the column's default, the largest number. Sorted last, as 0.
_NO_DATE = 2**63

_held = threading.local()


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


class DocumentTexts:
    """A text column of every segment of a reader, by docnum."""

    def __init__(self, reader, name):
        self.starts, self.columns = [], []
        for leaf, offset in reader.leaf_readers():
            self.starts.append(offset)
            column = None
            if name in leaf.schema and leaf.has_column(name):
                column = leaf.column_reader(name, translate=False)
            self.columns.append(column)

    def raw(self, docnum):
        """The document's UTF-8 bytes, or None where the index was written without them."""
        i = bisect_right(self.starts, docnum) - 1
        column = self.columns[i]
        return None if column is None else column[docnum - self.starts[i]]

    def text(self, docnum):
        raw = self.raw(docnum)
        return None if raw is None else raw.decode("utf-8")

    def holds(self, docnum, needle):
        """Whether the document holds the bytes `needle`. An index written before the
        column existed cannot tell: it says yes, so a run is never missed there."""
        raw = self.raw(docnum)
        return raw is None or needle in raw


def document_texts(searcher, name):
    """The searcher's DocumentTexts of a column, opened once per index generation."""
    return cache.value(
        searcher, ("texts", name), lambda: DocumentTexts(searcher.reader(), name), weight=1_000
    )


@dataclass
class Coded:
    """A column's values, numbered: codes[docnum] is the number of its value, 0 for none."""

    codes: np.ndarray
    values: list

    @property
    def nbytes(self):
        return self.codes.nbytes + 64 * len(self.values)


# What one document's stored number weighs in the cache (a dict entry and an int), roughly.
STORED_BYTES = 100


def stored_numbers(searcher, docnums, name):
    """The stored field `name` of each of `docnums`, as a number. Each document's is read once
    per index generation: the same addresses head the results of most queries, and reading
    stored fields costs a file read and an unpickling each time."""
    # Weighed as it will be once every document has been asked for.
    weight = STORED_BYTES * searcher.doc_count_all()
    known = cache.value(searcher, ("stored", name), dict, weight=weight)
    numbers = []
    for docnum in docnums:
        number = known.get(docnum)
        if number is None:
            number = known[docnum] = int(searcher.stored_fields(docnum)[name])
        numbers.append(number)
    return numbers


def coded_column(searcher, name):
    """Every document's value of a keyword column (a facet), numbered; read once."""

    def read():
        return _coded(_column(_readers(searcher), name))

    return cache.value(searcher, ("column", name), read)


def dates(searcher):
    """Every document's date as a number (0 for none, so that it sorts last)."""

    def read():
        values = _column(_readers(searcher), "date")
        return np.array([d if d and d < _NO_DATE else 0 for d in values], dtype=np.int64)

    return cache.value(searcher, ("column", "date"), read)


def column_texts(searcher, name):
    """Every document's text in a column, by docnum; None where a segment was written
    without the column."""
    return [None if v is None else v.decode("utf-8") for v in _column(_readers(searcher), name)]


def heads(searcher):
    """Every document's folded text before its body (title, subtitle, position, names), by
    docnum; empty where a segment of the index was written without the HEAD column."""

    def read():
        texts = column_texts(searcher, HEAD)
        return () if any(text is None for text in texts) else texts

    return cache.value(searcher, ("column", HEAD), read)


def column_numbers(searcher, name):
    """Every document's number in a column of decimal text, by docnum; -1 where a segment
    was written without the column."""
    values = _column(_readers(searcher), name)
    return np.array([int(v) if v else -1 for v in values], dtype=np.int64)


def _readers(searcher):
    return [sub.reader() for sub, _offset in searcher.leaf_searchers()]


def _column(readers, name):
    """One value per docnum. Segment by segment: a multi-segment reader leaves out the
    segments without the column, which would shift every later document."""
    values = []
    for reader in readers:
        if reader.has_column(name):
            values += column_values(reader, name)
        else:
            values += [None] * reader.doc_count_all()
    return values


def _coded(values):
    numbers = {None: 0, b"": 0}
    codes = [numbers.setdefault(v, len(numbers) - 1) for v in values]
    names = [None] * (max(numbers.values()) + 1)
    for value, number in numbers.items():
        if number:
            names[number] = value.decode()
    return Coded(np.array(codes, dtype=np.int32), names)


def field_norms(searcher, fieldname, b, k1, average):
    """BM25's part for the length, K1 * ((1 - B) + B * length / average length), of every
    document: computed once per index generation, not at every match of every search."""

    def compute():
        norms = array("d")
        for sub, _offset in searcher.leaf_searchers():
            reader = sub.reader()
            for docnum in range(reader.doc_count_all()):
                # (None where the field is empty: Whoosh never scores such a document.)
                length = reader.doc_field_length(docnum, fieldname, 1) or 0
                norms.append(k1 * ((1 - b) + b * length / average))
        return np.frombuffer(norms, dtype=np.float64)

    return cache.value(searcher, ("norms", fieldname, b, k1, average), compute)
