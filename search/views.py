"""The search page, its JSON twin and the OpenSearch description. All reads, no index writes."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from config.security import bounded_page_number

from . import presenters, service


def _request_args(request):
    sort = request.GET.get("sort", "relevance")
    match = request.GET.get("match", "exact")
    return {
        "query": request.GET.get("q", ""),
        # Within the result window: ranking page 999 means scoring 20,000 matches.
        "page": bounded_page_number(request.GET.get("page"), settings.ARCHIVE_PAGE_SIZE),
        "sort": sort if sort in service.SORTS else "relevance",
        "filters": service.Filters.from_params(request.GET),
        "match": match if match in service.MATCHES else "exact",
        "with_synonyms": request.GET.get("syn") != "0",
    }


def _part(key, value):
    """One parameter of a link, encoded; "" (left out) where it has no value."""
    return "" if value in (None, "") else urlencode({key: value})


class _Linker:
    """ "?…" links to this page with some parameters changed, and no page.

    The same as changing a copy of request.GET and calling urlencode(), without copying and
    encoding every parameter again for each of a page's hundred-odd links.
    """

    def __init__(self, request):
        self.encoded = {
            key: urlencode([(key, v) for v in values])
            for key, values in request.GET.lists()
            if key != "page"
        }

    def __call__(self, **changes):
        parts = self.encoded | {key: _part(key, value) for key, value in changes.items()}
        return "?" + "&".join(part for part in parts.values() if part)

    def setting(self, key):
        """`value -> self(key=value)`, for the many links of a page that change one key only
        (a facet's options): the other parameters copied and joined once, not at every link."""
        keys = list(self.encoded | {key: ""})  # its place: where the request has it, or last
        at = keys.index(key)
        before = "&".join(self.encoded[k] for k in keys[:at] if self.encoded[k])
        after = "&".join(self.encoded[k] for k in keys[at + 1 :] if self.encoded[k])
        return lambda value: "?" + "&".join(p for p in (before, _part(key, value), after) if p)

    @staticmethod
    def only(**params):
        return "?" + urlencode(params)


@require_safe
def search_page(request):
    args = _request_args(request)
    if request.GET.get("format") == "csv":
        return _results_csv(request, args)
    outcome = service.search(**args)
    link = _Linker(request)
    context = presenters.page_context(
        outcome,
        link=link,
        filters=args["filters"],
        sort=args["sort"],
        expanded=request.GET.get("more", ""),
    )
    context |= {
        "page": presenters.page_of(
            count=outcome.count,
            items=outcome.hits,
            page_size=outcome.page_size,
            number=outcome.page,
        ),
        "querystring": link()[1:],  # without the "?"
        "window": settings.ARCHIVE_MAX_RESULTS,
    }
    return render(request, "search/results.html", context)


def _results_csv(request, args):
    """The result list as CSV, best first, up to the result window: one row an address."""
    window = settings.ARCHIVE_MAX_RESULTS
    outcome = service.search(**(args | {"page": 1}), page_size=window, facets=False)
    rows = presenters.csv_rows(outcome, absolute=request.build_absolute_uri)
    return presenters.csv_response(presenters.CSV_HEADER, rows, filename="search-results.csv")


@require_safe
def search_api(request):
    args = _request_args(request)
    outcome = service.search(**args)
    link = _Linker(request)
    answer = presenters.as_json(
        outcome,
        sort=args["sort"],
        absolute=request.build_absolute_uri,
        page_url=lambda n: request.build_absolute_uri(reverse("search:api") + link(page=n)),
    )
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})


@require_safe
def opensearch(request):
    return render(
        request,
        "search/opensearch.xml",
        {"search_url": request.build_absolute_uri(reverse("search:search"))},
        content_type="application/opensearchdescription+xml; charset=utf-8",
    )
