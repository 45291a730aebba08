"""Keep what readers are served current: the archive's version stamp (cached pages) and the
stored address pages (speeches.pages)."""

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from . import pages, services
from .models import ArchiveStamp, Event, Organization, Person, Speech

_NAMED_BY = {Person: "speaker", Organization: "organization", Event: "event"}


def bump_archive_stamp(sender, **kwargs):
    ArchiveStamp.bump()


def store_pinyin(sender, instance, **kwargs):
    # Also for fixtures and restores (raw): the pinyin follows the names, whatever they hold.
    instance.pinyin = instance.pinyin_forms()


def remember_neighbours(sender, instance, raw=False, **kwargs):
    """Before a save or delete: the pages whose prev/next links name this address now."""
    old_event = None
    if instance.pk and not raw:
        old_event = Speech.objects.filter(pk=instance.pk).values_list("event_id", flat=True).first()
    instance._pages_adjacent = pages.adjacent_ids(instance.pk, old_event)


def refresh_speech_pages(sender, instance, raw=False, signal=None, **kwargs):
    if raw:  # fixtures: `manage.py render_pages` stores the pages afterwards
        return
    saved = signal is post_save
    affected = set(instance._pages_adjacent)
    if saved:
        affected |= pages.adjacent_ids(instance.pk, instance.event_id)
    ids = pages.expire(Speech.objects.filter(pk__in=affected))
    _store_on_commit([*ids, instance.pk] if saved else ids)


def remember_series(sender, instance, raw=False, **kwargs):
    """Before an event is saved: the series its addresses were neighbours in until now."""
    old = None
    if instance.pk and not raw:
        old = Event.objects.filter(pk=instance.pk).values_list("series", flat=True).first()
    instance._old_series = old or ""


def refresh_named_pages(sender, instance, created=False, raw=False, **kwargs):
    """A renamed speaker, organization or event shows on every page of its addresses."""
    if created or raw:
        return
    shown = Q(**{_NAMED_BY[sender]: instance})
    if sender is Event:
        # Neighbours across the series (prev/next) name the event, and a new series changes
        # who the neighbours are, in the old series and in the new one.
        series = {instance.series, getattr(instance, "_old_series", "")} - {""}
        shown |= Q(event__series__in=series)
    ids = pages.expire(Speech.objects.filter(shown))
    _store_on_commit(ids[: pages.EAGER_LIMIT])


def _store_on_commit(ids):
    if ids:
        # robust: a page that fails to render is rendered live later; the save stands.
        transaction.on_commit(lambda: services.store_speech_pages(speech_ids=ids), robust=True)


def connect():
    # Paragraph changes reach here as one save of their speech (services.touch), not per row.
    for model in (Speech, Person, Organization, Event):
        post_save.connect(
            bump_archive_stamp, sender=model, dispatch_uid=f"stamp.save.{model.__name__}"
        )
        post_delete.connect(
            bump_archive_stamp, sender=model, dispatch_uid=f"stamp.del.{model.__name__}"
        )
    for model in _NAMED_BY:
        pre_save.connect(store_pinyin, sender=model, dispatch_uid=f"pinyin.{model.__name__}")
    pre_save.connect(remember_neighbours, sender=Speech, dispatch_uid="pages.pre_save")
    pre_delete.connect(remember_neighbours, sender=Speech, dispatch_uid="pages.pre_delete")
    pre_save.connect(remember_series, sender=Event, dispatch_uid="pages.event.pre_save")
    post_save.connect(refresh_speech_pages, sender=Speech, dispatch_uid="pages.save")
    post_delete.connect(refresh_speech_pages, sender=Speech, dispatch_uid="pages.delete")
    for model in _NAMED_BY:
        post_save.connect(refresh_named_pages, sender=model, dispatch_uid=f"pages.{model.__name__}")
