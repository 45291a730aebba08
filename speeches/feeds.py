"""RSS and Atom feeds of the latest published addresses, and Atom feeds of one speaker's, event's
or organization's (search.feeds has one per search query).

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
from .exports import byline, xml_safe
from .models import Paragraph

FEED_ITEMS = 30
SUMMARY_CHARS = 200
# The opening paragraphs are often a salutation ("各位来宾："); a few give the summary substance.
LEAD_PARAGRAPHS = 4


def with_lead(speeches):
    """`speeches` with their opening paragraphs (`lead_paragraphs`), which the summary shows."""
    lead = Paragraph.objects.filter(position__lte=LEAD_PARAGRAPHS).order_by("position")
    return speeches.prefetch_related(
        Prefetch("paragraphs", queryset=lead, to_attr="lead_paragraphs")
    )


def latest_published(speeches=None):
    speeches = selectors.published_speeches() if speeches is None else speeches
    return with_lead(speeches.by_date())[:FEED_ITEMS]


def summary(speech):
    """Plain text: the opening paragraphs (headings skipped), cut to SUMMARY_CHARS characters."""
    texts = [p.text for p in speech.lead_paragraphs if not p.is_heading]
    return Truncator(" ".join(texts)).chars(SUMMARY_CHARS)


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

    def get_feed(self, obj, request):
        """The feed with the control characters XML cannot hold left out, so a title or a query
        holding one still gives a feed (Django refuses to write them)."""
        feed = super().get_feed(obj, request)
        feed.feed = _xml_safe_values(feed.feed)
        feed.items = [_xml_safe_values(item) for item in feed.items]
        return feed


def _xml_safe_values(fields):
    def clean(value):
        if isinstance(value, str):
            return xml_safe(value)
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    return {name: clean(value) for name, value in fields.items()}


class LatestSpeechesAtomFeed(LatestSpeechesFeed):
    feed_type = Atom1Feed

    def subtitle(self):
        return self.description()


class RecordFeed(LatestSpeechesAtomFeed):
    """The newest published addresses of one speaker, event or organization (Atom). The record
    is public as its page is (selectors.get_*): one named only by drafts is a 404."""

    get_record = None  # staticmethod(selectors.get_person), …
    field = None  # the Speech field naming the record

    def get_object(self, request, pk):
        return self.get_record(pk=pk)

    def title(self, obj):
        return _("讲稿库 · %(name)s的讲稿") % {"name": obj}

    def description(self, obj):
        return _("%(name)s的讲稿，按讲话日期最新在前") % {"name": obj}

    def subtitle(self, obj):
        return self.description(obj)

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return latest_published(selectors.published_speeches().filter(**{self.field: obj}))


class PersonFeed(RecordFeed):
    get_record = staticmethod(selectors.get_person)
    field = "speaker"


class EventFeed(RecordFeed):
    get_record = staticmethod(selectors.get_event)
    field = "event"


class OrganizationFeed(RecordFeed):
    get_record = staticmethod(selectors.get_organization)
    field = "organization"
