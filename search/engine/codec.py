"""The one module that knows Whoosh 2.7's file format and private members: the block writer
(a whole segment at once, for the rebuild) and the block reader (a term's postings decoded
block by block, for searches), side by side with the constants they share.

Writing. Whoosh's SegmentWriter puts every posting of a segment through a sorting pool (spilling
sorted runs to disk and merging them in Python) and then through the codec one call at a
time: for a rebuild of the archive, some 13 million postings, most of the time spent. Here
our analyzers count each document's terms at C speed (`counts()`, no Token per occurrence),
the counts are appended to three flat columns (term number, docnum, occurrences), and one
stable sort at the end groups them by term; each term is then written whole, a block at a
time, and the postings of rare terms go into the term's record (Whoosh's "inline" postings,
which its reader supports). Everything else is Whoosh's own: the per-document writer (stored
fields, lengths, columns), the block and term formats, and the stock W3Codec that reads the
segment back. search/tests/test_bulk.py compares the files with those Whoosh's own writer makes.

Reading. Whoosh's W3LeafMatcher reads a term's blocks two reads each and decodes them posting
by posting; `read_postings` reads a term's extent in one call and each block whole into
numpy arrays (search/tests/test_ranking.py compares the matches and scores with Whoosh's).

Columns. Whoosh's reader of a variable-width column derives its offsets in a Python loop, and
a facet's values are read one document at a time; VarBytesRows and numeric_values read a
column's lengths, offsets and values whole, with numpy (search/tests/test_bulk.py compares them
with Whoosh's reader), so that a new index generation's columns load in a fraction of a
millisecond each.

Whoosh 2.7.4 is pinned in requirements.txt: a change of format shows in those tests.
"""

import io
import os
import pickle
import struct
import zlib
from array import array
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from io import BytesIO
from itertools import count, repeat

import numpy as np
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3PostingsWriter,
    W3Segment,
    W3TermInfo,
)
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Frequency
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint, pack_ushort
from whoosh.writing import SegmentWriter

from .analysis import code_points, fold

# Postings per block, Whoosh's own default: the writer fills blocks of this size, and the
# reader decodes a block whole or skips it.
BLOCK_LIMIT = 128
# Posting lists shorter than a block are kept in the term's record instead of a block of
# their own in the postings file: most bigrams occur in a few documents only.
INLINE_LIMIT = BLOCK_LIMIT
# Blocks are written uncompressed (the block header says so): a search decodes a hundred
# blocks of the common words, and zlib would add a third to that; the postings file takes
# about four times the space.
COMPRESSION = 0
# pack_uint(n) for the small numbers most postings hold: one bytes object for each, which
# pickle then writes once per list.
_PACKED = tuple(pack_uint(n) for n in range(256))


class BulkSegmentWriter(SegmentWriter):
    """A SegmentWriter for a new segment of new documents (it merges nothing), written term
    by term at commit. Documents must not carry Whoosh's `_boost`/`_stored_` keywords."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, codec=BulkCodec(), **kwargs)
        # Fields our analyzers count, as columns; every other indexed field as Whoosh
        # analyzes it: {term bytes: [(docnum, weight, value)]}.
        self.counted = {
            name: Columns(getattr(field.analyzer, "term_of", None))
            for name, field in self.schema.items()
            if _countable(field)
        }
        self.postings = defaultdict(lambda: defaultdict(list))
        # The last text's code points, which both bigrams and characters count.
        self._codes = (None, None)

    def add_reader(self, reader):
        raise NotImplementedError("BulkSegmentWriter writes new documents only")

    def add_document(self, **fields):
        self._check_state()
        names = sorted(fields)
        if any(name.startswith("_") for name in names):
            raise ValueError("BulkSegmentWriter takes no _boost or _stored_ keywords")
        self._check_fields(self.schema, names)
        docnum, perdoc = self.docnum, self.perdocwriter
        perdoc.start_doc(docnum)
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = self.schema[name]
            length = 0
            if name in self.counted:
                length = self._add_counts(name, field, docnum, value)
            elif field.indexed:
                terms = self.postings[name]
                for tbytes, freq, weight, vbytes in field.index(value):
                    length += freq if field.scorable else 0
                    terms[tbytes].append((docnum, weight, vbytes))
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _add_counts(self, name, field, docnum, value):
        analyzer, folded = field.analyzer, fold(value)
        if hasattr(analyzer, "counted_codes"):
            if self._codes[0] is not folded:
                self._codes = (folded, code_points(folded))
            codes, occurrences = analyzer.counted_codes(self._codes[1])
            self.counted[name].add_codes(docnum, codes, occurrences)
            length = int(occurrences.sum())
        else:
            counts = analyzer.counts(folded)
            self.counted[name].add(docnum, counts)
            length = sum(counts.values())
        return length if field.scorable else 0

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        count = self.docnum - self.docbase
        try:
            for name in sorted({*self.postings, *(n for n, c in self.counted.items() if c.size)}):
                field = self.schema[name]
                doc_lengths = None
                if field.scorable:
                    doc_lengths = [lengths.doc_field_length(d, name) for d in range(count)]
                if name in self.counted:
                    self.fieldwriter.write_counted(name, field, self.counted[name], doc_lengths)
                else:
                    self.fieldwriter.write_postings(name, field, self.postings[name], doc_lengths)
        finally:
            lengths.close()
        self.fieldwriter.close()

    def finish_segment(self):
        """Write and close the segment; return it for a CommitWriter to commit (as
        whoosh.multiproc's writers do). Its temporary folder is the index's, shared with
        the other writers: the committing writer removes it."""
        return self._finalize_segment()


class CommitWriter(SegmentWriter):
    """Holds the index's write lock while other writers make segments, then commits them."""

    def commit_segments(self, segments, mergetype):
        """Commit `segments` beside what `mergetype` keeps of the index's current ones."""
        self._check_state()
        kept = self._merge_segments(mergetype, None, None)
        self._close_segment()
        self._commit_toc([*kept, *segments])
        self._finish()


def _countable(field):
    return (
        field.indexed
        and type(field.format) is Frequency
        and (hasattr(field.analyzer, "counts") or hasattr(field.analyzer, "counted_codes"))
        and not field.vector
        and not field.separate_spelling()
    )


class Columns:
    """One field's postings as three flat columns: term number, docnum, occurrences.
    Appending costs no Python object per posting; grouping by term waits for the end.

    Terms are numbered here as they come, or (`term_of` given) by the analyzer, whose
    numbers order as its terms do and which `term_of` turns back into terms.
    """

    def __init__(self, term_of=None):
        self.term_of = term_of
        self.numbers = None if term_of else defaultdict(count().__next__)
        self.terms, self.docs, self.freqs = array("Q"), array("I"), array("I")

    @property
    def size(self):
        return len(self.terms)

    def add(self, docnum, counts):
        """`counts`: {term: occurrences} of document `docnum`."""
        self.terms.extend(map(self.numbers.__getitem__, counts))
        self.freqs.extend(counts.values())
        self.docs.extend(repeat(docnum, len(counts)))

    def add_codes(self, docnum, numbers, occurrences):
        """The analyzer's term numbers and their occurrences in document `docnum`, as arrays."""
        self.terms.frombytes(numbers.astype(np.uint64).tobytes())
        self.freqs.frombytes(occurrences.astype(np.uint32).tobytes())
        self.docs.frombytes(np.full(len(numbers), docnum, dtype=np.uint32).tobytes())

    def by_term(self):
        """(term, docnums, occurrences) of each term, terms sorted, docnums ascending."""
        numbers = np.frombuffer(self.terms, dtype=np.uint64)
        order = np.argsort(numbers, kind="stable")  # stable: docnums stay ascending
        docs = np.frombuffer(self.docs, dtype=np.uint32)[order].tolist()
        freqs = np.frombuffer(self.freqs, dtype=np.uint32)[order].tolist()
        unique, starts = np.unique(numbers[order], return_index=True)
        bounds = [*starts.tolist(), len(order)]
        if self.term_of:
            terms = enumerate(map(self.term_of, unique.tolist()))
        else:  # numbered 0, 1, 2… in order of appearance; code point order is UTF-8 order
            terms = ((n, term) for term, n in sorted(self.numbers.items()))
        for i, term in terms:
            yield term, docs[bounds[i] : bounds[i + 1]], freqs[bounds[i] : bounds[i + 1]]


class BulkCodec(W3Codec):
    """W3Codec writing whole terms. Segments record the stock codec, which reads them:
    nothing in an index refers to this module."""

    def __init__(self):
        super().__init__(blocklimit=BLOCK_LIMIT, compression=COMPRESSION, inlinelimit=INLINE_LIMIT)

    def new_segment(self, storage, indexname):
        return W3Segment(W3Codec(), indexname)

    def field_writer(self, storage, segment):
        return BulkFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        return BlockPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


class BulkFieldWriter(W3FieldWriter):
    def _create_file(self, ext):
        """The term and postings files are made in memory and written out whole when closed:
        Whoosh's writers ask a file for its position at every term and block, and a real
        file asks the system each time."""
        created = super()._create_file(ext)

        def write_out(made):
            created.write(made.file.getbuffer())
            created.close()

        return StructFile(BytesIO(), name=created._name, onclose=write_out)

    def write_counted(self, fieldname, fieldobj, columns, lengths):
        """The postings of a Frequency field, from its Columns."""
        boost = fieldobj.format.field_boost
        self.start_field(fieldname, fieldobj)
        for term, ids, freqs in columns.by_term():
            self._add_term(
                term.encode("utf-8"),
                ids,
                freqs if boost == 1 else [f * boost for f in freqs],
                [_PACKED[f] if f < 256 else pack_uint(f) for f in freqs],
                lengths,
            )
        self.finish_field()

    def write_postings(self, fieldname, fieldobj, terms, lengths):
        """`terms`: {term bytes: [(docnum, weight, value bytes)]}, as Whoosh's formats give."""
        self.start_field(fieldname, fieldobj)
        for tbytes in sorted(terms):
            ids, weights, values = zip(*terms[tbytes], strict=True)
            # A format has values for every posting or for none (Existence): none are kept.
            self._add_term(tbytes, ids, weights, [v for v in values if v], lengths)
        self.finish_field()

    def _add_term(self, tbytes, ids, weights, values, lengths):
        """One term's postings (docnums ascending), values for all or none of them;
        `lengths` per docnum, or None."""
        if len(ids) >= INLINE_LIMIT:
            self.start_term(tbytes)
            self._postwriter.add_postings(ids, weights, values, lengths)
            self.finish_term()
            return
        # What W3PostingsWriter.finish_postings() would write for a short list, were its
        # inline branch not calling a method W3TermInfo lacks (set_inline).
        weights = array("f", weights)
        known = [n for n in map(lengths.__getitem__, ids) if n] if lengths else ()
        info = W3TermInfo(
            0 + sum(weights),
            len(ids),
            min(known) if known else None,
            max(known, default=0),
            max(0, max(weights)),
            ids[0],
            ids[-1],
        )
        # A list without values (ids, years) keeps an empty value for each posting: Whoosh's
        # reader answers "" (a str) for a record without them, which its own writer refuses
        # when a later commit merges this segment.
        info.set_inlined(ids, weights, values or [b""] * len(ids))
        self._tindex.add(pack_ushort(self._fieldid) + tbytes, info.to_bytes())


class BlockPostingsWriter(W3PostingsWriter):
    def add_postings(self, ids, weights, values, lengths):
        """One term's postings, in docnum order: the blocks add_posting() would fill one
        posting at a time, with the same statistics."""
        limit = self._blocklimit
        for start in range(0, len(ids), limit):
            if self._ids:  # a full block, not the last: finish_postings writes that one
                self._write_block()
            end = start + limit
            block_ids = ids[start:end]
            block_weights = weights[start:end]
            self._ids = array("I", block_ids)
            self._weights = array("f", block_weights)
            self._values = values[start:end]
            self._maxweight = max(0, max(self._weights))
            if lengths is not None:
                known = [n for n in map(lengths.__getitem__, block_ids) if n]
                self._minlength = min(known) if known else None
                self._maxlength = max(known, default=0)


# -- reading ---------------------------------------------------------------------------------

NONE = np.zeros(0, dtype=np.int64)


@dataclass
class Postings:
    """A term's postings: global docnums (ascending) and weights, as arrays. All of them, or
    (`scope` an array of docnums) those of the blocks that hold the documents of `scope`."""

    ids: np.ndarray
    weights: np.ndarray
    scope: np.ndarray | None = None

    @property
    def nbytes(self):
        return self.ids.nbytes + self.weights.nbytes

    def covers(self, docs):
        """Whether these postings are complete at the documents `docs` (all if None)."""
        return covers(self.scope, docs)

    def at(self, docs):
        """(where, found): the positions in these postings of `docs` (not empty), where found."""
        where = np.searchsorted(self.ids, docs)
        where[where == len(self.ids)] = 0
        return where, self.ids[where] == docs


def covers(scope, docs):
    """Whether `scope` (None: every document) holds all of `docs` (None: every document)."""
    if scope is None or docs is scope:
        return True
    return docs is not None and bool(found_in(scope, docs).all())


def found_in(large, small):
    """For each of `small`, whether the sorted array `large` holds it."""
    if not len(large):
        return np.zeros(len(small), dtype=bool)
    where = np.searchsorted(large, small)
    where[where == len(large)] = 0
    return large[where] == small


def read_postings(leaves, fieldname, text, within):
    """The term's postings in all segments (`leaves`: (reader, docnum offset) pairs): all of
    them, or (`within` an array of docnums) those of the blocks holding the documents of
    `within`."""
    ids, weights = [NONE], [np.zeros(0)]
    for reader, offset in leaves:
        try:
            info = reader.term_info(fieldname, text)
        except TermNotFound:
            continue
        if info.is_inlined():  # a short list, kept in the term's record
            found, found_weights = info.inlined_postings()[:2]
            found, found_weights = np.array(found, dtype=np.int64), np.array(found_weights, float)
        else:
            wanted = None
            if within is not None:
                end = offset + reader.doc_count_all()
                wanted = (within[(within >= offset) & (within < end)] - offset).tolist()
            found, found_weights = _segment_postings(reader, info, wanted)
        deleted = deleted_docs(reader)
        if len(deleted):
            kept = ~np.isin(found, deleted)
            found, found_weights = found[kept], found_weights[kept]
        ids.append(found + offset)
        weights.append(found_weights)
    return Postings(np.concatenate(ids), np.concatenate(weights), within)


def deleted_docs(reader):
    """A segment's deleted docnums, as an array (empty where it has none)."""
    if not reader.has_deletions():
        return NONE
    return np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)


def _segment_postings(reader, info, wanted=None):
    """(ids, weights) of a term's postings in one segment, as arrays; with `wanted` (sorted
    docnums), of the blocks that may hold one of them only.

    Whoosh 2.7 writes a term's postings as a header, then blocks: each a signed length
    (negative for the last), a pickled tuple of block statistics (the last id among them),
    and a pickled tuple of delta-coded ids, weights (None: all 1.0; a float: all that) and
    values (BlockPostingsWriter above writes the same). A block's first delta is its first
    id: the blocks' deltas are joined and summed at once, each block's first one less the
    last id of the block read before it.
    """
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh 2.7.4 reads it back unpacked: (length,)
        (length,) = length
    data = reader._terms._postfile.get(offset, length)
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"no postings at {offset} of {reader.segment()}")
    stream, position, following, last_block = io.BytesIO(data), 4, 0, False
    deltas, weights, firsts, lasts = [], [], [], []
    while not last_block:
        size = _BLOCK_SIZE.unpack_from(data, position)[0]
        last_block, start = size < 0, position + _BLOCK_SIZE.size
        position = start + abs(size)
        stream.seek(start)
        count_, last, _weight, compression, _shortest, _longest = pickle.load(stream)
        if wanted is not None:
            if following == len(wanted):
                break
            if wanted[following] > last:
                continue
            following = bisect_left(wanted, last + 1, following)
        block = data[stream.tell() : position]
        block_deltas, block_weights, _values = pickle.loads(
            zlib.decompress(block) if compression else block
        )
        if block_weights is None or isinstance(block_weights, float):
            block_weights = [1.0 if block_weights is None else block_weights] * count_
        firsts.append(len(deltas))
        lasts.append(last)
        deltas += block_deltas
        weights += block_weights
    ids = np.array(deltas, dtype=np.int64)
    if len(firsts) > 1:
        ids[firsts[1:]] -= np.array(lasts[:-1], dtype=np.int64)
    return np.cumsum(ids), np.array(weights, dtype=np.float64)


_BLOCK_SIZE = struct.Struct("!i")


class PositionalFileStorage(FileStorage):
    """FileStorage whose files answer Whoosh's reads at a position (every term lookup and
    block) with one pread system call, instead of a seek and a buffered read."""

    def open_file(self, name, **kwargs):
        opened = super().open_file(name, **kwargs)
        return _PositionalFile(opened.file, name=name, **kwargs)


class _PositionalFile(StructFile):
    def get(self, position, length):
        return os.pread(self.file.fileno(), length, position)


# -- columns ----------------------------------------------------------------------------------

# struct's standard sizes ("!"), as numpy reads them big-endian.
_NUMPY_TYPES = {
    "b": ">i1", "B": ">u1", "h": ">i2", "H": ">u2", "i": ">i4", "I": ">u4",
    "l": ">i4", "L": ">u4", "q": ">i8", "Q": ">u8", "f": ">f4", "d": ">f8",
}  # fmt: skip


def numeric_values(reader, name):
    """A NumericColumn's values, every document's, as one numpy array (the column's default
    where a document was written without one); None for a column of another kind."""
    column = reader.column_reader(name, translate=False)
    if not isinstance(column, NumericColumn.Reader) or column._typecode not in _NUMPY_TYPES:
        return None
    written = min(column._count, column._doccount)
    data = column._dbfile.get(column._basepos, written * column._fixedlen) if written else b""
    found = np.frombuffer(data, dtype=_NUMPY_TYPES[column._typecode])
    missing = np.full(column._doccount - written, column._default, dtype=found.dtype)
    return np.concatenate((found, missing))


def column_rows(reader, name):
    """A segment's column reader (translate=False), a VarBytesColumn's opened as VarBytesRows."""
    column = reader.schema[name].column_type
    if type(column) is VarBytesColumn:
        column = _VarBytesRowsColumn()
    return reader.column_reader(name, column=column, translate=False)


class VarBytesRows:
    """A VarBytesColumn's rows, read as Whoosh's VarBytesColumn.Reader reads them, with numpy.
    Whoosh writes the offsets only for segments of more than 2**15 documents and derives them
    in a Python loop otherwise (0.6 ms for ten thousand): each column of each segment at every
    index generation, before the first count of a trend can start."""

    def __init__(self, dbfile, basepos, length, doccount):
        self._dbfile, self._basepos = dbfile, basepos
        last = basepos + length - 1  # the lengths' typecode, or "X" after the offsets'
        code, offsets = chr(dbfile.get_byte(last)), None
        if code == "X":
            code, offsets_code = chr(dbfile.get_byte(last - 2)), chr(dbfile.get_byte(last - 1))
            last -= 2 + doccount * struct.calcsize(offsets_code)
            offsets = _native_array(dbfile, last, offsets_code, doccount)
        lengths = _native_array(dbfile, last - doccount * struct.calcsize(code), code, doccount)
        if offsets is None:
            offsets = np.cumsum(lengths) - lengths
        self.offsets, self.lengths = offsets, lengths
        # Read a row at a time, as array.array: one element costs less than numpy's.
        self._offsets, self._lengths = array("q", offsets.tobytes()), array("q", lengths.tobytes())

    def __getitem__(self, docnum):
        length = self._lengths[docnum]
        return self._dbfile.get(self._basepos + self._offsets[docnum], length) if length else b""

    def spans(self, docnums, *, gap=8192, chunk=131072):
        """(docnum, buffer, start, end) for each of `docnums` (sorted): its row is
        buffer[start:end]. Rows lie in the file in docnum order; those less than `gap` bytes
        apart are read together, up to `chunk` bytes a read: confirming a run in a few
        thousand texts, one system call for each run of neighbours instead of one a text
        (a fifth to a third less time)."""
        offsets, lengths, get, base = self._offsets, self._lengths, self._dbfile.get, self._basepos
        i, count_ = 0, len(docnums)
        while i < count_:
            first = offsets[docnums[i]]
            end, j = first + lengths[docnums[i]], i + 1
            while j < count_:
                at = offsets[docnums[j]]
                if at - end > gap or at + lengths[docnums[j]] - first > chunk:
                    break
                end, j = at + lengths[docnums[j]], j + 1
            buffer = get(base + first, end - first) if end > first else b""
            for docnum in docnums[i:j]:
                start = offsets[docnum] - first
                yield docnum, buffer, start, start + lengths[docnum]
            i = j

    def data(self):
        """The rows' bytes, end to end, in one read (row n at offsets[n], lengths[n] long)."""
        end = int((self.offsets + self.lengths).max()) if len(self.lengths) else 0
        return self._dbfile.get(self._basepos, end) if end else b""


class _VarBytesRowsColumn(VarBytesColumn):
    Reader = VarBytesRows


def _native_array(dbfile, position, typecode, count):
    """`count` numbers of the array module's `typecode` (its native size), written big-endian
    by StructFile.write_array."""
    dtype = np.dtype(typecode).newbyteorder(">")
    return np.frombuffer(dbfile.get(position, count * dtype.itemsize), dtype=dtype).astype(np.int64)
