"""An Atom feed per search: /feeds/search.atom?q=… follows a reader's interest, the newest
matching addresses first, each with the paragraphs that matched. It asks search.service as the
results page does, and is rate-limited as search is."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from speeches import selectors
from speeches.exports import xml_safe
from speeches.feeds import FEED_ITEMS, LatestSpeechesAtomFeed, with_lead

from . import service
from .engine.query import MAX_QUERY_CHARS


@dataclass(frozen=True)
class Query:
    text: str
    filters: service.Filters

    def params(self):
        return {"q": self.text, **dict(self.filters.items())}


class SearchFeed(LatestSpeechesAtomFeed):
    description_template = "feeds/search_description.html"

    def get_object(self, request):
        text = xml_safe(request.GET.get("q", "")).strip()[:MAX_QUERY_CHARS]
        return Query(text=text, filters=service.Filters.from_params(request.GET))

    def title(self, query):
        return _("讲稿库 · 检索“%(q)s”") % {"q": query.text}

    def description(self, query):
        return _("讲稿库中检索“%(q)s”找到的讲稿，按讲话日期最新在前") % {"q": query.text}

    def subtitle(self, query):
        return self.description(query)

    def link(self, query):
        return f"{reverse('search:search')}?{urlencode(query.params())}"

    def items(self, query):
        outcome = service.search(
            query=query.text,
            filters=query.filters,
            page=1,
            sort="date",
            page_size=FEED_ITEMS,
            facets=False,
        )
        # The hits carry what a card shows; the feed's entries show more (dates, summaries).
        ids = [hit.speech.pk for hit in outcome.hits]
        speeches = {s.pk: s for s in with_lead(selectors.published_speeches().filter(pk__in=ids))}
        items = []
        for hit in outcome.hits:
            if (speech := speeches.get(hit.speech.pk)) is not None:
                speech.snippets = hit.snippets
                items.append(speech)
        return items

    def get_context_data(self, *, item, request, **kwargs):
        context = super().get_context_data(item=item, request=request, **kwargs)
        # A feed reader resolves no relative link; a snippet's html is escaped by the engine.
        snippets = [
            {
                "url": request.build_absolute_uri(s.url),
                "paragraph": s.paragraph,
                "html": mark_safe(s.html),
            }
            for s in item.snippets
        ]
        return context | {"snippets": snippets}
