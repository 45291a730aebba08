"""The one cache of search work: values derived from one state of the index.

Decoded posting lists, BM25 length norms, facet columns, labels and whole outcomes all
depend on the index and on nothing else, so one rule empties them all: a newer searcher
(a new index generation) replaces every entry. Within a generation the least recently used
go first, so the memory held stays within `budget`, each value weighing what `weight` says
(roughly its bytes). Lucene keeps its LRUQueryCache for the same reason: the common words
are in most queries.
"""

import threading
from collections import OrderedDict

import numpy as np

# A value whose weight nobody gave: an outcome or a small mapping.
DEFAULT_WEIGHT = 32_000


def weight_of(value):
    """Bytes of a numpy array or of a value's arrays (`nbytes`), else DEFAULT_WEIGHT."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    return getattr(value, "nbytes", DEFAULT_WEIGHT)


class SearcherCache:
    def __init__(self, budget):
        self.budget, self.size = budget, 0
        self.owner, self.entries = None, OrderedDict()
        self.lock = threading.Lock()

    def get(self, searcher, key):
        """The value kept for `key` under this searcher, or None."""
        with self.lock:
            if self.owner is not searcher:
                return None
            found = self.entries.get(key)
            if found is None:
                return None
            self.entries.move_to_end(key)
            return found[0]

    def put(self, searcher, key, value, *, weight=None, replace=False):
        """Keep `value` (built by whoever asked first: a value already kept stays, unless
        `replace`)."""
        weight = weight_of(value) if weight is None else weight
        with self.lock:
            if self.owner is not searcher:
                self.owner, self.entries, self.size = searcher, OrderedDict(), 0
            if replace and key in self.entries:
                self.size -= self.entries.pop(key)[1]
            if key in self.entries or weight > self.budget:
                return
            self.entries[key] = (value, weight)
            self.size += weight
            while self.size > self.budget:
                _key, (_value, dropped) = self.entries.popitem(last=False)
                self.size -= dropped

    def value(self, searcher, key, build, *, weight=None):
        """The value for `key`, built (outside the lock) and kept when missing."""
        found = self.get(searcher, key)
        if found is None:
            found = build()
            self.put(searcher, key, found, weight=weight)
        return found

    def forget(self, kind):
        """Drop the entries of one kind (keys starting with `kind`): for the benchmark, which
        times searches without their outcomes kept, or without decoded postings."""
        with self.lock:
            for key in [k for k in self.entries if k[0] == kind]:
                self.size -= self.entries.pop(key)[1]

    def clear(self):
        with self.lock:
            self.owner, self.entries, self.size = None, OrderedDict(), 0


# Decoded postings (16 bytes a posting, about a million of them), outcomes, norms and columns.
cache = SearcherCache(budget=48_000_000)
