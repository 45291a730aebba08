"""/sitemap.xml: every published address, and the pages that list them (people, events,
organizations and years with published addresses, and the lists themselves). Drafts, and records
named only by drafts, are not in it, as they are not on the site."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from . import selectors
from .models import Speech


class SpeechSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Speech.objects.published().order_by("pk").only("pk", "updated_at")

    def lastmod(self, speech):
        return speech.updated_at


class RecordSitemap(Sitemap):
    """The people, events or organizations that readers can open: those with published
    addresses."""

    changefreq = "weekly"
    priority = 0.5

    def __init__(self, records):
        self.records = records

    def items(self):
        return self.records().order_by("pk").only("pk")


class YearSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self):
        return [row["y"] for row in selectors.year_counts(queryset=selectors.published_speeches())]

    def location(self, year):
        return reverse("speeches:year", args=[year])


class ListSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self):
        return ["speeches:home", "speeches:list", "speeches:events", "speeches:people"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "lists": ListSitemap,
    "speeches": SpeechSitemap,
    "people": RecordSitemap(selectors.people_with_counts),
    "events": RecordSitemap(selectors.events_with_counts),
    "organizations": RecordSitemap(selectors.organizations_with_counts),
    "years": YearSitemap,
}
