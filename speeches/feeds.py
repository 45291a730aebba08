"""RSS and Atom feeds of the latest published addresses.

Feed readers render an item's description as HTML, so it comes from an autoescaped
template: a transcript's own markup reaches the reader as visible text, never as markup.
"""

import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from . import selectors
from .models import Paragraph

FEED_ITEMS = 30
SUMMARY_CHARS = 200
# The opening paragraphs are often a salutation ("各位来宾："); a few give the summary substance.
LEAD_PARAGRAPHS = 4


def latest_published():
    lead = Paragraph.objects.filter(position__lte=LEAD_PARAGRAPHS).order_by("position")
    return (
        selectors.published_speeches()
        .by_date()
        .prefetch_related(Prefetch("paragraphs", queryset=lead, to_attr="lead_paragraphs"))[
            :FEED_ITEMS
        ]
    )


def summary(speech):
    """Plain text: the opening paragraphs (headings skipped), cut to SUMMARY_CHARS characters."""
    texts = [p.text for p in speech.lead_paragraphs if not p.is_heading]
    return Truncator(" ".join(texts)).chars(SUMMARY_CHARS)


def byline(speech):
    """Who spoke, where and when, in one line of plain text."""
    parts = []
    if speech.speaker:
        role = "".join(
            filter(None, [speech.organization and speech.organization.name, speech.position])
        )
        parts.append(f"{speech.speaker.name}（{role}）" if role else speech.speaker.name)
    if speech.event:
        parts.append(speech.event.name)
    if speech.date:
        parts.append(speech.date_display)
    return " · ".join(parts)


class LatestSpeechesFeed(Feed):
    description_template = "feeds/speech_description.html"
    # The transcripts are Chinese whatever language the interface is shown in.
    language = "zh-CN"

    def title(self):
        return _("讲稿库 · 最新讲稿")

    def description(self):
        return _("讲稿库中讲话日期最新的讲话、致辞与报告")

    def link(self):
        return reverse("speeches:list")

    def items(self):
        return latest_published()

    def item_title(self, item):
        return item.title

    def get_context_data(self, *, item, **kwargs):
        return {"speech": item, "byline": byline(item), "summary": summary(item)}

    def item_author_name(self, item):
        return item.speaker.name if item.speaker else None

    def item_pubdate(self, item):
        # The address's own date; an undated one counts from when the archive received it.
        if item.date:
            return datetime.datetime.combine(
                item.date, datetime.time.min, tzinfo=timezone.get_default_timezone()
            )
        return item.created_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_categories(self, item):
        return [c for c in (item.get_kind_display(), item.event and item.event.name) if c]


class LatestSpeechesAtomFeed(LatestSpeechesFeed):
    feed_type = Atom1Feed

    def subtitle(self):
        return self.description()
