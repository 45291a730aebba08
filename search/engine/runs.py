"""Where each pair of characters starts in a segment's folded texts: a file of the engine's
own beside each segment of the index (`<segment>.runs`), so that a run of characters is found,
and counted, without reading the texts of the documents that might hold it.

The `grams` field says which documents hold a bigram, not where: a run of three or more
characters (第十三章) has to be confirmed in the text of every document holding all of its
bigrams, and most of those candidates may lack it. With the places of its bigrams, a run is
where they follow one another, which a few binary searches find.

The file is written once per segment (segments never change): by each rebuild worker for its
segment, and after every commit for the segments the commit made (`write_missing`). Whoosh
removes it with its segment: the name is one of the segment's. A segment without a readable
file (an index written before these files, a write that failed) is read in its texts, as
before: the file makes a search faster, never different.

Layout, little-endian: MAGIC; five int64 (documents, distinct bigrams, places, a place's
bytes, the texts' bytes); then int64 arrays of each document's first byte (one more: the
end) and of where its body starts (its end where it has none), every SAMPLE-th of the
bigrams, the bigrams sorted (uint64: first character << 21 | second), the index in the
places where each bigram's start (one more: the end), and the places (uint32, or int64 past
4 GB): byte offsets in the documents' texts joined in docnum order, by bigram, ascending
within each.
"""

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh.reading import SegmentReader

from .analysis import SEPARATOR, bigram_numbers, code_points, is_plain, run_chars
from .cache import cache
from .codec import column_rows

log = logging.getLogger(__name__)

SUFFIX = ".runs"
MAGIC = b"RUNS\x00\x00\x00\x02"
# One bigram in every SAMPLE is kept in memory, to find the block of the file where a bigram is.
SAMPLE = 256
_HEADER = struct.Struct("<5q")
_SEPARATOR_BYTES = len(SEPARATOR.encode("utf-8"))
# The columns a segment's file is made from (search.engine.store's FOLDED and HEAD).
_FOLDED, _HEAD = "folded", "head"
NONE = np.zeros(0, dtype=np.int64)


# -- writing ------------------------------------------------------------------------------------


def write_missing(index):
    """Write the file of every segment of the index that lacks one (after a commit: those it
    made). A failure is logged, not raised: the commit stands, and searches read that
    segment's texts instead."""
    folder = getattr(index.storage, "folder", None)
    for segment in index._segments() if folder else ():
        if not (Path(folder) / segment.make_filename(SUFFIX)).exists():
            write_segment(index, segment)


def write_segment(index, segment):
    """write() the file of one of the index's segments, committed or about to be."""
    with SegmentReader(index.storage, index.schema, segment) as reader:
        return write(reader)


def write(reader):
    """Write the file of a segment (its SegmentReader) unless it has one, or has no folded
    text and head columns to make one from. Returns its path, or None."""
    path = path_of(reader)
    if path is None or path.exists() or not _has_columns(reader):
        return None
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        with open(temporary, "wb") as out:
            for part in _file_parts(reader):
                out.write(part)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError:
        log.warning("could not write %s: its segment's texts are read instead", path, exc_info=True)
        temporary.unlink(missing_ok=True)
        return None
    return path


def path_of(reader):
    """Where a segment's file is, or None where its storage is not a folder of files."""
    if not isinstance(reader, SegmentReader) or reader.segment().is_compound():
        return None
    folder, segment = getattr(reader.storage(), "folder", None), reader.segment()
    if folder is None:
        return None
    return Path(folder) / segment.make_filename(SUFFIX)


def _has_columns(reader):
    return all(name in reader.schema and reader.has_column(name) for name in (_FOLDED, _HEAD))


def _file_parts(reader):
    texts = column_rows(reader, _FOLDED)
    data, starts, lengths = _joined(texts.data(), texts.offsets, texts.lengths)
    heads = column_rows(reader, _HEAD).lengths + _SEPARATOR_BYTES
    ends = starts + lengths
    bodies = np.where(heads <= lengths, starts + heads, ends)
    keys, places = bigram_places(data, starts)
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    distinct = keys[np.concatenate(([0], cut))] if len(keys) else keys
    bounds = np.concatenate(([0], cut, [len(keys)])).astype(np.int64)
    narrow = len(data) < 2**32
    places = places.astype(np.uint32 if narrow else np.int64)
    counts = (len(starts), len(distinct), len(places), places.itemsize, len(data))
    yield MAGIC + _HEADER.pack(*counts)
    sample = distinct[::SAMPLE]
    for array in (np.append(starts, len(data)), bodies, sample, distinct, bounds, places):
        yield np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()


def _joined(data, offsets, lengths):
    """The rows' bytes end to end, each row's first byte and length: Whoosh writes them so
    already; a column whose rows lie otherwise is joined here."""
    offsets, lengths = offsets.astype(np.int64), lengths.astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    if np.array_equal(starts, offsets) and len(data) == int(lengths.sum()):
        return data, starts, lengths
    rows = [data[o : o + n] for o, n in zip(offsets.tolist(), lengths.tolist(), strict=True)]
    return b"".join(rows), starts, lengths


def bigram_places(data, starts):
    """(keys, places): every pair of neighbouring characters of `data` (UTF-8, documents
    starting at the byte offsets `starts`) both of which a run can hold (analysis.GRAM_RUN)
    and both in one document, as its key, sorted, and the byte offset of its first character,
    ascending within each key."""
    codes = code_points(data.decode("utf-8"))
    if len(codes) < 2:
        return np.zeros(0, dtype=np.uint64), NONE
    widths = np.ones(len(codes), dtype=np.uint8)
    for first in (0x80, 0x800, 0x10000):  # where UTF-8 takes one byte more
        widths += codes >= first
    at = np.cumsum(widths, dtype=np.int64) - widths
    first_of_document = np.zeros(len(codes), dtype=bool)
    first_of_document[np.searchsorted(at, starts[starts < len(data)])] = True
    kept = run_chars(codes)
    kept = kept[:-1] & kept[1:] & ~first_of_document[1:]
    keys = bigram_numbers(codes[:-1], codes[1:])[kept]
    order = np.argsort(keys, kind="stable")
    return keys[order], at[:-1][kept][order]


# -- reading ------------------------------------------------------------------------------------


class SegmentRuns:
    """A segment's file, open: its documents' first bytes and one bigram in every SAMPLE
    are held in memory, everything else read where a run needs it (one pread for the block
    of bigrams where it would be, one for its bounds, one for its places). Mapped into
    memory instead, the pages a worker had touched would stay in its resident memory:
    with random substrings, most of the file."""

    def __init__(self, fd, size, doccount):
        self._fd = None  # owned once every check has passed: open() closes it otherwise
        head = os.pread(fd, len(MAGIC) + _HEADER.size, 0)
        if head[: len(MAGIC)] != MAGIC or len(head) != len(MAGIC) + _HEADER.size:
            raise ValueError("not a runs file")
        documents, keys, places, width, _size = _HEADER.unpack_from(head, len(MAGIC))
        if documents != doccount or width not in (4, 8):
            raise ValueError("the file is another segment's")
        self._key_count, self._width = keys, width
        self._place_type = "<u4" if width == 4 else "<i8"
        at, self._at = len(head), {}
        for name, count, itemsize in (
            ("starts", documents + 1, 8),
            ("bodies", documents, 8),
            ("sample", _sampled(keys), 8),
            ("keys", keys, 8),
            ("bounds", keys + 1, 8),
            ("places", places, width),
        ):
            self._at[name], at = at, at + count * itemsize
        if at != size:
            raise ValueError("the file is cut short or too long")
        self.starts = _read(fd, "<i8", self._at["starts"], documents + 1)
        self.bodies = _read(fd, "<i8", self._at["bodies"], documents)
        self._sample = _read(fd, "<u8", self._at["sample"], _sampled(keys))
        self._fd = fd

    def __del__(self):
        if self._fd is not None:
            os.close(self._fd)

    @classmethod
    def open(cls, reader):
        """The segment's file, or None where it has none that can be read."""
        path = path_of(reader)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            return cls(fd, os.fstat(fd).st_size, reader.doc_count_all())
        except (OSError, ValueError, struct.error):
            os.close(fd)
            return None

    def bounds_of(self, key):
        """(first, end) of the bigram's places in the file's list, (0, 0) if it has none."""
        block = int(np.searchsorted(self._sample, np.uint64(key), "right")) - 1
        if block < 0:
            return 0, 0
        first = block * SAMPLE
        keys = _read(
            self._fd, "<u8", self._at["keys"] + 8 * first, min(SAMPLE, self._key_count - first)
        )
        at = int(np.searchsorted(keys, np.uint64(key)))
        if at == len(keys) or keys[at] != key:
            return 0, 0
        first, end = _read(self._fd, "<i8", self._at["bounds"] + 8 * (first + at), 2).tolist()
        return first, end

    def _places(self, bounds):
        first, end = bounds
        return _read(
            self._fd, self._place_type, self._at["places"] + self._width * first, end - first
        )

    def starts_of(self, run):
        """(where each occurrence of the run starts, the document holding it): the run a str
        of two or more characters a run can hold, its occurrences overlapping ones included,
        their starts byte offsets, ascending."""
        codes = [ord(c) for c in run]
        offsets = np.cumsum([0] + [len(c.encode("utf-8")) for c in run[:-1]])
        # Every other bigram, and the last: together they cover every character.
        pairs = sorted({*range(0, len(run) - 1, 2), len(run) - 2})
        bounds = [self.bounds_of(int(bigram_numbers(codes[j], codes[j + 1]))) for j in pairs]
        if any(first == end for first, end in bounds):
            return NONE, NONE
        lists = [self._places(b) for b in bounds]
        rarest = min(range(len(pairs)), key=lambda i: len(lists[i]))
        found = lists[rarest].astype(np.int64) - offsets[pairs[rarest]]
        for i, j in enumerate(pairs):
            if i != rarest and len(found):
                found = found[found + offsets[j] >= 0]
                found = found[_held_in(lists[i], found + offsets[j])]
        owners = np.searchsorted(self.starts, found, "right") - 1
        # Bigrams that follow one another across the end of a document (its last two
        # characters, the next one's first two) are no run: the bigram joining them was not
        # kept, but it need not be one of those looked up.
        within = found + len(run.encode("utf-8")) <= self.starts[owners + 1]
        return found[within], owners[within]


def _read(fd, dtype, at, count):
    size = count * np.dtype(dtype).itemsize
    data = os.pread(fd, size, at) if count else b""
    if len(data) != size:
        raise OSError(f"runs file read short at {at}")
    return np.frombuffer(data, dtype=dtype)


def _sampled(keys):
    return -(-keys // SAMPLE)


def _held_in(sorted_places, wanted):
    """Whether each of `wanted` is one of `sorted_places`."""
    if not len(sorted_places):
        return np.zeros(len(wanted), dtype=bool)
    wanted = wanted.astype(sorted_places.dtype)
    at = np.searchsorted(sorted_places, wanted).clip(max=len(sorted_places) - 1)
    return sorted_places[at] == wanted


@dataclass(frozen=True)
class Found:
    """What the files say of a run among some documents: those they answer for (`answered`,
    sorted), those of them holding it anywhere in their folded text (`held`, sorted), and how
    often it occurs in each one's body (`counts`, aligned with `held`; not overlapping, as
    bytes.count counts)."""

    answered: np.ndarray
    held: np.ndarray
    counts: np.ndarray

    @property
    def nbytes(self):
        return self.answered.nbytes + self.held.nbytes + self.counts.nbytes + 64

    def counted(self):
        """{docnum: occurrences in its body} of every document answered for."""
        found = dict.fromkeys(self.answered.tolist(), 0)
        found.update(zip(self.held.tolist(), self.counts.tolist(), strict=True))
        return found


class Runs:
    """The files of a reader's segments (None for a segment without one)."""

    def __init__(self, reader):
        self.segments = [
            (offset, leaf.doc_count_all(), SegmentRuns.open(leaf))
            for leaf, offset in reader.leaf_readers()
        ]
        # Every segment has its file: find() answers for every document.
        self.complete = bool(self.segments) and all(s is not None for *_, s in self.segments)

    def find(self, run, docs):
        """Found: where the files answer for `docs` (a sorted array of docnums) about `run`
        (a folded str), which of them hold it and how often in their bodies."""
        answered, held, counts = [NONE], [NONE], [NONE]
        for offset, segment, part in self._parts(run, docs):
            found = _in_segment(segment, run, part)
            answered.append(part + offset)
            held.append(found.held + offset)
            holding = np.searchsorted(found.held, found.owners)
            counts.append(np.bincount(holding, minlength=len(found.held)))
        return Found(*(np.concatenate(arrays) for arrays in (answered, held, counts)))

    def in_bodies(self, run, docs):
        """{docnum: (where its body starts, where each occurrence of `run` counted in it
        starts)}, byte offsets in its folded text, for those of `docs` (sorted) whose body
        the files say holds it."""
        places = {}
        for offset, segment, part in self._parts(run, docs):
            found = _in_segment(segment, run, part)
            if not len(found.owners):
                continue
            cuts = np.flatnonzero(np.diff(found.owners)) + 1
            owners = found.owners[np.concatenate(([0], cuts))].tolist()
            starts = np.split(found.starts - segment.starts[found.owners], cuts)
            for doc, at in zip(owners, starts, strict=True):
                body = int(segment.bodies[doc] - segment.starts[doc])
                places[doc + offset] = (body, at.tolist())
        return places

    def _parts(self, run, docs):
        """(first docnum, file, its documents among `docs` numbered from 0) of each segment
        with a file, where the run is one the files place."""
        if not placeable(run):
            return
        for offset, count, segment in self.segments:
            part = docs[(docs >= offset) & (docs < offset + count)] - offset
            if segment is not None and len(part):
                yield offset, segment, part


def placeable(run):
    """Whether the files place `run`: two characters or more, each one a run can hold, and
    no whitespace possible between them in folded text (analysis.is_plain: not 中国made,
    which folded text may hold as 中国 made)."""
    return len(run) >= 2 and is_plain(run)


@dataclass(frozen=True)
class _Occurrences:
    held: np.ndarray  # the documents holding the run anywhere, ascending
    starts: np.ndarray  # where each occurrence counted in a body starts, ascending
    owners: np.ndarray  # the document of each of those


def _in_segment(segment, run, docs):
    """Which of `docs` hold `run`, and its occurrences in their bodies: not overlapping, as
    bytes.count counts them."""
    starts, owners = segment.starts_of(run)
    asked = np.zeros(len(segment.bodies), dtype=bool)
    asked[docs] = True
    wanted = asked[owners]
    starts, owners = starts[wanted], owners[wanted]
    held = owners[np.flatnonzero(np.diff(owners, prepend=-1))]  # owners ascend
    in_body = starts >= segment.bodies[owners]
    starts, owners = starts[in_body], owners[in_body]
    if _overlaps_itself(run):
        keep = _not_overlapping(starts.tolist(), owners.tolist(), len(run.encode("utf-8")))
        starts, owners = starts[keep], owners[keep]
    return _Occurrences(held, starts, owners)


def _overlaps_itself(run):
    """Whether two occurrences of `run` can overlap (哈哈 in 哈哈哈, 是不是 in 是不是不是)."""
    return any(run[:k] == run[-k:] for k in range(1, len(run)))


def _not_overlapping(starts, owners, size):
    """Which of the occurrences (ascending) bytes.count counts: from the left, each one
    that starts after the one counted before it ends, within a document."""
    keep, end, owner = [], -1, -1
    for start, doc in zip(starts, owners, strict=True):
        counted = doc != owner or start >= end
        keep.append(counted)
        if counted:
            end, owner = start + size, doc
    return np.array(keep, dtype=bool)


def runs(searcher):
    """The searcher's Runs, opened once per index generation."""
    return cache.value(searcher, ("texts", "runs"), lambda: Runs(searcher.reader()), weight=1_000)
