"""Reads the import needs: existing people, organizations and events, and near-duplicates."""

import hashlib
import re
from pathlib import Path

from django.conf import settings
from django.db.models import Q

from ..models import Event, Organization, Paragraph, Person, SourceFile, Speech
from .similarity import NEAR_DUPLICATE, fingerprint, similarity

# (speech pk, updated_at) -> (fingerprint, digest of the body); a speech is read again only
# after it changes.
_fingerprints = {}


SHA256 = re.compile(r"[0-9a-f]{64}")


def original_path(*, sha256):
    """Where an upload's original bytes live: content-addressed under MEDIA_ROOT."""
    return Path(settings.MEDIA_ROOT) / "originals" / sha256[:2] / sha256[2:4] / sha256


def stored_original(*, sha256):
    """The kept file for a SHA-256, or None; anything but 64 hex digits is refused."""
    if not SHA256.fullmatch(sha256 or ""):
        return None
    path = original_path(sha256=sha256)
    return path if path.is_file() else None


def read_original(*, sha256):
    """The kept bytes for a SHA-256 from a form, or None."""
    path = stored_original(sha256=sha256)
    return path.read_bytes() if path else None


def find_person(*, name):
    """The existing person of that name; with namesakes, the one without a distinguishing note."""
    if not name:
        return None
    return Person.objects.filter(name=name).order_by("note", "pk").first()


def find_organization(*, name):
    if not name:
        return None
    return Organization.objects.filter(Q(name=name) | Q(short_name=name)).order_by("pk").first()


def find_event(*, name):
    return Event.objects.filter(name=name).first() if name else None


def find_source_file(*, sha256):
    return SourceFile.objects.select_related("speech").filter(sha256=sha256).first()


def find_near_duplicates(*, text, threshold=NEAR_DUPLICATE):
    """Published and draft speeches whose body overlaps `text`, as (speech, similarity), best first."""
    new = fingerprint(text)
    current = _current_bodies()
    scores = {pk: similarity(new, print_) for pk, (print_, _digest) in current.items()}
    close = {pk: score for pk, score in scores.items() if score >= threshold}
    speeches = Speech.objects.with_related().in_bulk(list(close))
    return sorted(((speeches[pk], score) for pk, score in close.items()), key=lambda s: -s[1])


def find_same_text(*, paragraphs):
    """The oldest speech, draft or published, whose body is exactly `paragraphs`, or None."""
    wanted = body_digest(paragraphs)
    same = [pk for pk, (_print, digest) in _current_bodies().items() if digest == wanted]
    return Speech.objects.with_related().filter(pk__in=same).order_by("pk").first()


def body_digest(paragraphs):
    return hashlib.sha256("\n\n".join(paragraphs).encode()).hexdigest()


def _current_bodies():
    """{pk: (fingerprint, digest)} of every speech as it is now."""
    current = dict(Speech.objects.values_list("pk", "updated_at"))
    missing = [pk for pk, at in current.items() if (pk, at) not in _fingerprints]
    bodies = {pk: [] for pk in missing}
    rows = Paragraph.objects.filter(speech_id__in=missing).order_by("speech_id", "position")
    for speech_id, text in rows.values_list("speech_id", "text").iterator():
        bodies[speech_id].append(text)
    for pk in missing:
        _fingerprints[(pk, current[pk])] = (
            fingerprint("\n".join(bodies[pk])),
            body_digest(bodies[pk]),
        )
    live = set(current.items())
    for key in [key for key in _fingerprints if key not in live]:
        del _fingerprints[key]
    return {pk: _fingerprints[(pk, at)] for pk, at in current.items()}
