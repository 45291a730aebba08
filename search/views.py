"""The search page, its JSON twin and the OpenSearch description. All reads, no index writes."""

from html import escape
from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from config.security import BoundedPaginator, bounded_page_number, max_pages
from speeches.models import SpeechKind

from . import results
from .query import MAX_QUERY_CHARS
from .results import FACETS, SORTS, Selection
from .snippets import snippet_list_html

FACET_TITLES = {
    "year": _("年份"),
    "kind": _("类型"),
    "speaker": _("讲者"),
    "organization": _("机构"),
    "event": _("会议活动"),
}
SUGGESTION_TEXT = {
    "fewer": _("只检索其中一个词"),
    "substring": _("去掉引号，按字串检索"),
    "unfiltered": _("去掉筛选条件"),
}
TRUNCATED_NOTICE = _("检索词过长，只用了前 %(n)d 个字。")
# Options shown per facet (the most frequent; years: the latest).
FACET_OPTIONS = 15


class _Counted:
    """What Paginator needs to number pages whose hits were fetched already."""

    def __init__(self, outcome):
        self.outcome = outcome

    def count(self):
        return self.outcome.count

    def __len__(self):
        return self.outcome.count

    def __getitem__(self, _slice):
        return self.outcome.hits


def _request_args(request):
    sort = request.GET.get("sort", "relevance")
    return {
        "q": request.GET.get("q", ""),
        # Within the result window: ranking page 999 means scoring 20,000 matches.
        "page": bounded_page_number(request.GET.get("page"), settings.ARCHIVE_PAGE_SIZE),
        "sort": sort if sort in SORTS else "relevance",
        "selection": Selection.from_params(request.GET),
    }


def _linker(request):
    """A function giving "?…" links to this page with some parameters changed, and no page.

    The same as changing a copy of request.GET and calling urlencode(), without copying and
    encoding every parameter again for each of a page's hundred-odd links.
    """
    encoded = {
        key: urlencode([(key, v) for v in values])
        for key, values in request.GET.lists()
        if key != "page"
    }

    def link(**changes):
        parts = dict(encoded)
        for key, value in changes.items():
            if value in (None, ""):
                parts.pop(key, None)
            else:
                parts[key] = urlencode({key: value})
        return "?" + "&".join(part for part in parts.values() if part)

    return link


@require_safe
def search_page(request):
    args = _request_args(request)
    outcome = results.search(**args)
    page = BoundedPaginator(_Counted(outcome), outcome.page_size).get_page(outcome.page)
    link = _linker(request)
    facets = [
        {"title": FACET_TITLES[name], "options": _facet_options_html(name, options, link)}
        for name in FACETS
        if (options := outcome.facets.get(name))
    ]
    # The kind's label once per kind, not get_kind_display() (every label translated) per card.
    kinds = {value: str(label) for value, label in SpeechKind.choices}
    cards = [
        {
            "hit": hit,
            "kind": kinds.get(hit.speech.kind),
            "snippets": snippet_list_html(hit.snippets),
        }
        for hit in outcome.hits
    ]
    suggestions = [
        {**s, "text": SUGGESTION_TEXT[s["kind"]], "url": "?" + _query_only(s["q"])}
        for s in outcome.suggestions
    ]
    return render(
        request,
        "search/results.html",
        {
            "query": outcome.query.raw,
            "parsed": outcome.query,
            "outcome": outcome,
            "cards": cards,
            "page": page,
            "facets": facets,
            "sort": args["sort"],
            "sort_links": {s: link(sort=s) for s in SORTS},
            "suggestions": suggestions,
            "querystring": link()[1:],  # without the "?"
            "window": settings.ARCHIVE_MAX_RESULTS,
            "notice": _notice(outcome),
        },
    )


def _facet_options_html(name, options, link):
    """A facet's options as list items. Joined here rather than looped over in the template
    (seventy-five options, five variables each, took a fifth of the page's rendering), and
    escaped by the standard library's escape, which Django's format_html wraps at ten times
    the cost."""
    items = []
    for o in options[:FACET_OPTIONS]:
        url, label = escape(link(**{name: "" if o["selected"] else o["value"]})), escape(o["label"])
        if o["selected"]:
            items.append(f'<li class="selected"><a href="{url}" aria-current="true">{label}</a>')
        else:
            items.append(f'<li><a href="{url}">{label}</a>')
        items.append(f' <span class="count">{o["count"]:d}</span></li>')
    return mark_safe("".join(items))


def _notice(outcome):
    return TRUNCATED_NOTICE % {"n": MAX_QUERY_CHARS} if outcome.query.truncated else ""


def _query_only(q):
    params = QueryDict(mutable=True)
    params["q"] = q
    return params.urlencode()


@require_safe
def search_api(request):
    args = _request_args(request)
    outcome = results.search(**args)
    num_pages = min(outcome.num_pages, max_pages(outcome.page_size))
    link = _linker(request)
    return JsonResponse(
        {
            "query": outcome.query.raw,
            "tokens": outcome.query.tokens,
            "count": outcome.count,
            "page": outcome.page,
            "num_pages": num_pages,
            "query_truncated": outcome.query.truncated,
            "notice": _notice(outcome),
            "sort": args["sort"],
            "next": _api_page_link(request, link, outcome.page + 1, num_pages),
            "previous": _api_page_link(request, link, outcome.page - 1, num_pages),
            "results": [_hit_json(request, hit) for hit in outcome.hits],
            "facets": {
                name: [{k: o[k] for k in ("value", "label", "count")} for o in options]
                for name, options in outcome.facets.items()
            },
            "suggestions": outcome.suggestions,
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _api_page_link(request, link, number, num_pages):
    """The absolute URL of page `number` of these results, or None past either end."""
    if not 1 <= number <= num_pages:
        return None
    return request.build_absolute_uri(reverse("search:api") + link(page=number))


def _hit_json(request, hit):
    """One result: what the speeches list API gives for an address (ids to follow with its
    filters), from the fields the results page loaded, and the hit's score and snippets."""
    speech = hit.speech
    return {
        "id": speech.pk,
        "title": speech.title,
        "subtitle": speech.subtitle,
        "url": request.build_absolute_uri(speech.get_absolute_url()),
        "date": speech.date_iso,
        "date_precision": speech.date_precision or None,
        "kind": speech.kind,
        "speaker": {
            "id": speech.speaker.pk,
            "name": speech.speaker.name,
            "position": speech.position,
        }
        if speech.speaker
        else None,
        "organization": {"id": speech.organization.pk, "name": speech.organization.name}
        if speech.organization
        else None,
        "event": {"id": speech.event.pk, "name": speech.event.name} if speech.event else None,
        "score": hit.score,
        "snippets": [{"paragraph": s.paragraph, "html": str(s.html)} for s in hit.snippets],
    }


@require_safe
def opensearch(request):
    return render(
        request,
        "search/opensearch.xml",
        {"search_url": request.build_absolute_uri(reverse("search:search"))},
        content_type="application/opensearchdescription+xml; charset=utf-8",
    )
