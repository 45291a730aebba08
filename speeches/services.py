"""Writes to the archive. Every change to a speech's records goes through here."""

import re

from django.db import transaction

from .models import Paragraph, SpeechStatus

_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def split_paragraphs(text):
    """Split a text area's content on blank lines; keep each paragraph's characters as typed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]


@transaction.atomic
def replace_paragraphs(*, speech, texts, headings=()):
    """Make `texts` the speech's whole body, numbered from 1."""
    speech.paragraphs.all().delete()
    Paragraph.objects.bulk_create(
        Paragraph(speech=speech, position=i, text=t, is_heading=(i - 1) in headings)
        for i, t in enumerate(texts, start=1)
    )
    # bulk_create sends no signals; saving the speech tells listeners (search) the body changed.
    speech.save(update_fields=["updated_at"])


def set_status(*, speech, status):
    speech.status = status
    speech.save(update_fields=["status", "updated_at"])


def publish(*, speech):
    set_status(speech=speech, status=SpeechStatus.PUBLISHED)


def unpublish(*, speech):
    set_status(speech=speech, status=SpeechStatus.DRAFT)
