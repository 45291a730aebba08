"""The archive's vocabulary in every process: what jieba keeps whole, and re-indexing after a
change.

Every process that cuts text calls refresh() first: web workers before a search view
(search.middleware), the indexer before each batch (search.queue), a rebuild before its
workers fork. refresh() reads one row, the vocabulary's stamp; only when it differs from the
one this process loaded are the words read and jieba's extra words changed (added or taken
away, the dictionary itself is never loaded again).

A change to a term (search.signals) bumps the stamp and queues, in the same transaction, the
addresses whose text holds a word added or taken away, found by exact substring search; the
indexer, still the one writer, cuts them again with the new words.
"""

import datetime

from django.db import connection
from django.utils import timezone

from . import service, synonyms
from .engine import analysis
from .engine.cache import cache
from .models import VocabularyStamp, VocabularyTerm, enqueue

_NOTHING_YET = object()
_loaded = _NOTHING_YET  # the stamp whose words this process has
_table_seen = False


def version():
    """The stamp of the vocabulary's last change (None if it never changed).

    Raw SQL: every search asks, and compiling the ORM's query took ten times as long as
    running it (0.16 ms of a results page's 5)."""
    table = connection.ops.quote_name(VocabularyStamp._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT changed_at FROM {table} WHERE id = %s", [1])
        row = cursor.fetchone()
    if row is None:
        return None
    # SQLite's driver gives the stored UTC time without its zone; the ORM would add it.
    stamp = row[0]
    return timezone.make_aware(stamp, datetime.UTC) if timezone.is_naive(stamp) else stamp


def bump():
    # One UPDATE; the row is created by the first change (or the seeding migration).
    now = timezone.now()
    if not VocabularyStamp.objects.filter(pk=1).update(changed_at=now):
        VocabularyStamp.objects.get_or_create(pk=1, defaults={"changed_at": now})


def words():
    """Every term and synonym, as stored."""
    found = set()
    for term in VocabularyTerm.objects.only("term", "synonyms"):
        found |= term.words()
    return found


def refresh():
    """Give this process's jieba the vocabulary's current words, if they changed since it last
    looked; return the stamp it now has. Until migrate has made the table (the first migrate,
    commands run before it), jieba keeps its own dictionary."""
    global _loaded
    if not _table_exists():
        return None
    current = version()
    if current != _loaded:
        analysis.set_extra_words(words())
        synonyms.forget()
        # Outcomes hold the old cut of their query (检索词) and its old synonyms; postings and
        # columns do not.
        cache.forget("outcome")
        _loaded = current
    return current


def changed_since(stamp):
    """Whether the vocabulary changed after refresh() returned `stamp`."""
    return _table_exists() and version() != stamp


def forget():
    """Make the next refresh() read the words again (tests, after a rolled-back change)."""
    global _loaded
    _loaded = _NOTHING_YET
    synonyms.forget()


def _table_exists():
    global _table_seen
    if not _table_seen:
        # Asked until the table is there; once it is, never again.
        _table_seen = VocabularyStamp._meta.db_table in connection.introspection.table_names()
    return _table_seen


def changed(*, before, after, reindex=True):
    """After a change from the words `before` to `after`: the stamp bumped and the addresses
    holding any word added or taken away queued for the indexer. Returns how many."""
    bump()
    if not reindex:
        return 0
    differ = {analysis.fold(w) for w in before} ^ {analysis.fold(w) for w in after}
    return reindex_holding(differ)


def reindex_holding(words):
    """Queue every address whose text holds one of `words` verbatim (the results page's exact
    substring search, so none is missed however the index cut it); return how many."""
    ids = set()
    for word in words:
        ids |= service.matching_ids(f'"{word}"')
    enqueue(sorted(ids))
    return len(ids)
