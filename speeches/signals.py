"""Bump the archive's version stamp on every change to what public pages show."""

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from .models import ArchiveStamp, Event, Organization, Person, Speech


def bump_archive_stamp(sender, **kwargs):
    # One UPDATE on every save; update_or_create would lock-read the row, then save it whole.
    now = timezone.now()
    if not ArchiveStamp.objects.filter(pk=1).update(changed_at=now):
        ArchiveStamp.objects.get_or_create(pk=1, defaults={"changed_at": now})


def connect():
    # Paragraph changes reach here as one save of their speech (services.touch), not per row.
    for model in (Speech, Person, Organization, Event):
        post_save.connect(
            bump_archive_stamp, sender=model, dispatch_uid=f"stamp.save.{model.__name__}"
        )
        post_delete.connect(
            bump_archive_stamp, sender=model, dispatch_uid=f"stamp.del.{model.__name__}"
        )
