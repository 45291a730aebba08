"""Address pages rendered ahead of reads, so that a reader's first visit is as fast as a repeat.
The head of the address's card, shown in lists and search results, is rendered with the page.

The page an anonymous reader gets is rendered after the address is saved
(services.store_speech_pages) and read back with one query (selectors.stored_page). A page
shows the speech and its paragraphs, its speaker's, organization's and event's names, and its
neighbours in its event's series (or event). A stored page is served only while the speech's
`updated_at` and `page_version` are those it was rendered from: saving the speech (its paragraphs
included, see services.touch) changes the first, and speeches.signals bumps the second for every
other page a change shows up on. The release, a digest of templates, static files and translations, keeps a
deploy from serving pages of the old look.
"""

import hashlib
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation

from . import exports, selectors
from .models import Speech

# Stored pages hold this origin in their absolute URLs (the citation line); a response puts the
# request's own in its place. (.invalid is reserved: a transcript quoting it would show this
# site's origin there, nothing worse.)
ORIGIN = "https://archive.invalid"
TEMPLATE = "speeches/speech_detail.html"
CARD_HEAD = "includes/speech_card_head.html"
# A rename re-renders this many pages at once; the rest are rendered live until
# `manage.py render_pages` stores them.
EAGER_LIMIT = 100


@dataclass
class Marking:
    """A query's occurrences marked in an address (?hl=…): `html` has each marked paragraph's
    escaped text by position, its <mark>s numbered hl-1 to hl-`count` through the address."""

    query: str
    count: int = 0
    html: dict = field(default_factory=dict)


# marker(speech=, paragraphs=[(position, text)], query=) -> Marking, or None for a query with
# nothing to mark. The search app sets it (search.apps), since only search knows how a query
# matches text; speeches never imports search.
marker = None


def render(request, speech, *, origin, query=""):
    """The address page; with `query` (and a marker), its occurrences marked."""
    previous, following = selectors.neighbours(speech_id=speech.pk, event_id=speech.event_id)
    paragraphs = speech.paragraphs.all()
    marking = None
    if query and marker is not None:
        paragraphs = list(paragraphs)
        found = [(p.position, p.text) for p in paragraphs]
        marking = marker(speech=speech, paragraphs=found, query=query)
        for paragraph in paragraphs if marking else ():
            paragraph.marked = marking.html.get(paragraph.position)
    context = {
        "speech": speech,
        "paragraphs": paragraphs,
        "marking": marking,
        "previous": previous,
        "next": following,
        "citation_url": origin + speech.get_absolute_url(),
        "citation": exports.citation(speech, url=origin + speech.get_absolute_url()),
    }
    return render_to_string(TEMPLATE, context, request=request)


def render_for_readers(speech, *, language):
    """(page, card head) as an anonymous reader in `language` gets them, outside any request."""
    request = HttpRequest()
    request.method = "GET"
    request.user = AnonymousUser()
    request.LANGUAGE_CODE = language
    with translation.override(language):
        page = render(request, speech, origin=ORIGIN)
        card = render_to_string(CARD_HEAD, {"speech": speech}, request=request)
    return page, card


def origin_of(request):
    return f"{request.scheme}://{request.get_host()}"


def compress(html):
    return zlib.compress(html.encode(), 6)


def serve(compressed, request):
    return zlib.decompress(compressed).replace(ORIGIN.encode(), origin_of(request).encode())


@cache
def release():
    digest = hashlib.sha256(Path(__file__).read_bytes())
    base = Path(settings.BASE_DIR)
    for folder in ("templates", "static", "locale"):
        for path in sorted((base / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- which pages a change shows up on ------------------------------------------------------


def adjacent_ids(speech_id, event_id):
    """Published addresses next to `speech_id` in its event's series (or event): their prev/next
    links name it."""
    around = selectors.neighbours(speech_id=speech_id, event_id=event_id)
    return {s.pk for s in around if s is not None}


def expire(queryset):
    """Bump the page version of `queryset`'s addresses; returns their ids."""
    ids = list(queryset.values_list("pk", flat=True))
    if ids:
        Speech.objects.filter(pk__in=ids).update(page_version=F("page_version") + 1)
    return ids
