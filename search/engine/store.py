"""What an index holds beside its postings, and how writers take turns.

- Per-document columns: the folded text (where a run is confirmed and snippets are found),
  its word lengths, and the facet and date values, read by document number.
- BM25's length part of every document, computed once per index generation.
- One file lock for every writer, so that writers queue instead of raising LockError.
"""

import fcntl
import re
import threading
from array import array
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN

from .cache import cache
from .codec import VarBytesRows, column_rows, numeric_values

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
                column = column_rows(leaf, name)
            self.columns.append(column)

    def raw(self, docnum):
        """The document's UTF-8 bytes, or None where the index was written without them."""
        i = bisect_right(self.starts, docnum) - 1
        column = self.columns[i]
        return None if column is None else column[docnum - self.starts[i]]

    def text(self, docnum):
        raw = self.raw(docnum)
        return None if raw is None else raw.decode("utf-8")

    def holding(self, docs, needle, *, counting=None):
        """For each of `docs` (a sorted array of docnums), whether its text holds the bytes
        `needle`; the texts of neighbours read together (VarBytesRows.spans). An index
        written before the column existed cannot tell: it says yes, so a run is never missed
        there. `counting`: a counting.BodyCounts of `needle`, which counts it as it looks,
        each text scanned once."""
        held = []
        for start, column, part in self._by_segment(docs):
            if column is None:
                held += [True if counting is None else counting(d, None) for d in part.tolist()]
                continue
            spans = column.spans((part - start).tolist())
            if counting is None:
                held += [text.find(needle, s, e) >= 0 for _d, text, s, e in spans]
            else:
                held += [counting.within(d + start, text, s, e) for d, text, s, e in spans]
        return np.array(held, dtype=bool)

    def each(self, docs):
        """(docnum, its bytes or None) for each of `docs` (a sorted array), the texts of
        neighbours read together."""
        for start, column, part in self._by_segment(docs):
            if column is None:
                yield from ((doc, None) for doc in part.tolist())
                continue
            for doc, text, s, e in column.spans((part - start).tolist()):
                yield doc + start, text[s:e]

    def _by_segment(self, docs):
        """(its first docnum, its column or None, those of `docs` in it) for each segment."""
        parts = np.split(docs, np.searchsorted(docs, self.starts[1:]))
        return zip(self.starts, self.columns, parts, strict=True)


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
        return _rows(_readers(searcher), name).coded()

    return cache.value(searcher, ("column", name), read)


def dates(searcher):
    """Every document's date as a number (0 for none, so that it sorts last)."""

    def read():
        return np.concatenate([np.zeros(0, np.int64)] + [_dates(r) for r in _readers(searcher)])

    return cache.value(searcher, ("column", "date"), read)


def _dates(reader):
    if not reader.has_column("date"):
        return np.zeros(reader.doc_count_all(), dtype=np.int64)
    found = numeric_values(reader, "date")  # Whoosh's DATETIME: unsigned, 8 bytes
    return np.where(found < _NO_DATE, found, 0).astype(np.int64)


def heads(searcher):
    """Every document's folded text before its body (title, subtitle, position, names), as
    UTF-8 Rows by docnum; empty where a segment of the index was written without the HEAD
    column."""

    def read():
        rows = _rows(_readers(searcher), HEAD)
        return () if rows.missing.any() else rows

    return cache.value(searcher, ("column", HEAD), read)


def column_numbers(searcher, name):
    """Every document's number in a column of decimal text, by docnum; -1 where a segment
    was written without the column."""
    return _rows(_readers(searcher), name).numbers()


def _readers(searcher):
    return [sub.reader() for sub, _offset in searcher.leaf_searchers()]


# What the two lists of a Rows weigh once read a row at a time (two ints and their slots).
ROW_BYTES = 72


@dataclass
class Rows:
    """A variable-width column of every segment, read whole: row n is `lengths[n]` bytes of
    `data` from `offsets[n]`; `missing[n]` where its segment was written without the column
    (read as empty)."""

    data: bytes
    offsets: np.ndarray
    lengths: np.ndarray
    missing: np.ndarray

    def __len__(self):
        return len(self.lengths)

    @property
    def nbytes(self):
        arrays = self.offsets.nbytes + self.lengths.nbytes + self.missing.nbytes
        return len(self.data) + arrays + ROW_BYTES * len(self)

    def __getitem__(self, docnum):
        return self.data[self._starts[docnum] : self._ends[docnum]]

    @cached_property
    def _starts(self):  # a list: a numpy array is slow to index one row at a time
        return self.offsets.tolist()

    @cached_property
    def _ends(self):
        return (self.offsets + self.lengths).tolist()

    def occurrences(self, needle):
        """How often the bytes `needle` occur in each row, found in the rows' data at once.
        `needle` must not overlap itself (one character, or two different ones): then a match
        across two rows, left out, hides no match within one."""
        found = re.finditer(re.escape(needle), self.data)
        at = np.fromiter(map(re.Match.start, found), dtype=np.int64)
        row = self.offsets.searchsorted(at, "right") - 1  # a run of empty rows: the last
        inside = at + len(needle) <= self.offsets[row] + self.lengths[row]
        return np.bincount(row[inside], minlength=len(self))

    def grid(self):
        """Every row's bytes as a line of a (rows, widest row) uint8 array, padded with zeros:
        gathered in one step rather than sliced a row at a time."""
        width = int(self.lengths.max(initial=0))
        places = np.arange(width)
        at = self.offsets[:, None] + places
        at[places >= self.lengths[:, None]] = len(self.data)  # the zero appended below
        return np.frombuffer(self.data + b"\0", dtype=np.uint8)[at]

    def numbers(self):
        """Every row's non-negative number in decimal text, -1 for an empty row."""
        grid, found = self.grid(), np.zeros(len(self), dtype=np.int64)
        for place in range(grid.shape[1]):
            digit = grid[:, place].astype(np.int64) - ord("0")
            found = np.where(place < self.lengths, found * 10 + digit, found)
        return np.where(self.lengths == 0, -1, found)

    def coded(self):
        """The rows' distinct values numbered in their sorted order, 0 for none (b""). Rows of
        up to eight bytes are sorted as numbers, their bytes read big-endian."""
        grid = self.grid()
        width = grid.shape[1]
        if width <= 8:
            padded = np.zeros((len(self), 8), dtype=np.uint8)
            padded[:, :width] = grid
            keys, codes = np.unique(padded.view(">u8").ravel(), return_inverse=True)
            values = keys.astype(">u8").view("S8")
        else:
            values, codes = np.unique(grid.view(f"S{width}").ravel(), return_inverse=True)
        codes = codes.reshape(-1).astype(np.int32)
        if not len(values) or values[0] != b"":
            values, codes = np.concatenate(([b""], values)), codes + 1
        return Coded(codes, [None] + [v.decode() for v in values[1:].tolist()])


def _rows(readers, name):
    parts = [_segment_rows(reader, name) for reader in readers]
    starts = np.cumsum([0] + [len(part.data) for part in parts])
    nothing = np.zeros(0, dtype=np.int64)
    return Rows(
        b"".join(part.data for part in parts),
        np.concatenate([nothing] + [p.offsets + s for p, s in zip(parts, starts, strict=False)]),
        np.concatenate([nothing] + [part.lengths for part in parts]),
        np.concatenate([nothing.astype(bool)] + [part.missing for part in parts]),
    )


def _segment_rows(reader, name):
    count = reader.doc_count_all()
    if not reader.has_column(name):
        none = np.zeros(count, dtype=np.int64)
        return Rows(b"", none, none, np.ones(count, dtype=bool))
    column = column_rows(reader, name)
    if not isinstance(column, VarBytesRows):
        raise TypeError(f"column {name!r} is not a VarBytesColumn")
    return Rows(column.data(), column.offsets, column.lengths, np.zeros(count, dtype=bool))


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
