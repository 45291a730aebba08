"""Drift: where the index and the published addresses disagree, and its repair."""

from dataclasses import dataclass

from . import other_engines
from .connection import backend, own_engine, speech_index
from .models import enqueue


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
    found = _indexed_stamps(engine) if own_engine(engine) else other_engines.indexed_stamps()
    return Drift(
        missing=sorted(set(expected) - set(found)),
        extra=sorted(set(found) - set(expected)),
        stale=sorted(pk for pk in set(expected) & set(found) if expected[pk] != found[pk]),
    )


def _indexed_stamps(engine):
    searcher = engine.searcher()
    found = {}
    for fields in searcher.all_stored_fields() if searcher else ():
        if fields.get("django_ct") == "speeches.speech":
            found[int(fields["django_id"])] = fields.get("updated", "")
    return found


def _stamp(value):
    return value.isoformat() if value else ""


def repair(drift):
    ids = [*drift.missing, *drift.extra, *drift.stale]
    enqueue(ids)
    return ids
