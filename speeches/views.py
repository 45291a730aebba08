from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.security import BoundedPaginator, rate_limited

from . import exports, pages, selectors

PAGE_CACHE_SECONDS = 600
# The people filter reads no more of what was typed: a name or its pinyin is far shorter.
NAME_FILTER_MAX = 60


LIST_PARAMS = ("year", "event", "speaker", "organization", "kind", "sort", "page")


def reader_query(request, params):
    """The query string as far as a page reads it: what else a URL carries changes nothing."""
    return urlencode(sorted((k, v) for k, v in request.GET.items() if k in params))


def cached_for_readers(*params):
    """Serve anonymous readers a rendered page again until the archive changes.

    Keyed by the archive's version, so an edit is visible on the next request; staff always
    get a fresh page (it carries their edit links). Only the query parameters in `params`
    are part of the key, so made-up ones cannot fill the cache with copies of a page.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated:
                return view(request, *args, **kwargs)
            version = selectors.archive_version()
            # The host is part of the key: pages carry absolute URLs (the citation line).
            key = (
                f"page:{request.LANGUAGE_CODE}:{version}:{request.get_host()}{request.path}"
                f"?{reader_query(request, params)}"
            )
            cached = cache.get(key)
            if cached is not None:
                return HttpResponse(cached)
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                cache.set(key, response.content, PAGE_CACHE_SECONDS)
            return response

        return wrapper

    return decorate


def _page(request, queryset):
    # Pages end at ARCHIVE_MAX_RESULTS: a deeper OFFSET costs much and filters reach the rest.
    paginator = BoundedPaginator(queryset, settings.ARCHIVE_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


@require_safe
@cached_for_readers()
def home(request):
    return render(request, "speeches/home.html", selectors.home_summary())


@require_safe
@cached_for_readers(*LIST_PARAMS)
def speech_list(request):
    filters = selectors.SpeechFilters.from_query(request.GET)
    speeches = selectors.filter_speeches(filters=filters)
    return render(
        request,
        "speeches/speech_list.html",
        {
            "page": _page(request, speeches),
            "filters": filters,
            "choices": selectors.filter_choices(queryset=speeches),
            "sorts": selectors.SpeechFilters.SORTS,
            "querystring": reader_query(request, LIST_PARAMS[:-1]),
        },
    )


@require_safe
def speech_detail(request, pk):
    query = request.GET.get("hl", "")
    if sees_drafts(request.user):
        return _staff_speech_detail(request, pk, query)
    if query:
        return _marked_speech_detail(request, pk, query)
    # With DEBUG (runserver), templates change under a running process: always render.
    if not (request.user.is_authenticated or settings.DEBUG):
        stored = selectors.stored_page(
            pk=pk, language=request.LANGUAGE_CODE, release=pages.release()
        )
        if stored is not None:
            return HttpResponse(pages.serve(stored, request))
    return _rendered_speech_detail(request, pk)


def sees_drafts(user):
    """Staff who may view speeches in the admin see their drafts on the site too."""
    return user.is_staff and user.has_perm("speeches.view_speech")


@never_cache
def _staff_speech_detail(request, pk, query):
    # Rendered live and never cached, here or by a browser or proxy: a draft's page must
    # not outlive the staff's session, nor a stale page hide their last edit.
    speech = selectors.get_speech_for_staff(pk=pk)
    origin = pages.origin_of(request)
    return HttpResponse(pages.render(request, speech, origin=origin, query=query))


@cached_for_readers()
def _rendered_speech_detail(request, pk):
    speech = selectors.get_published_speech(pk=pk)
    return HttpResponse(pages.render(request, speech, origin=pages.origin_of(request)))


def _marked_speech_detail(request, pk, query):
    """The address with `query` marked, for a reader coming from a search result: rendered for
    each request, never stored or cached, since any text can be asked for."""
    speech = selectors.get_published_speech(pk=pk)
    return HttpResponse(pages.render(request, speech, origin=pages.origin_of(request), query=query))


@require_safe
@rate_limited
def speech_export(request, pk, fmt):
    """The address as a file in `fmt` (exports.FORMATS): its citation or its text. Drafts as
    on the page: for staff who may view them, fresh each time; for anyone else 404."""
    staff = sees_drafts(request.user)
    if staff:
        speech = selectors.get_speech_for_staff(pk=pk)
    else:
        speech = selectors.get_published_speech(pk=pk)
    export = exports.FORMATS[fmt]
    url = pages.origin_of(request) + speech.get_absolute_url()
    response = HttpResponse(export.build(speech, url=url), content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, exports.file_name(speech, export.extension)
    )
    if staff:
        add_never_cache_headers(response)
    return response


@require_safe
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("speeches:sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /api/", f"Sitemap: {sitemap}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def _listing(request, template, obj, speeches, **extra):
    return render(
        request, template, {"object": obj, "page": _page(request, speeches.by_date()), **extra}
    )


@require_safe
@cached_for_readers("page")
def event_detail(request, pk):
    event = selectors.get_event(pk=pk)
    earlier, later = selectors.series_neighbours(event=event)
    return _listing(
        request,
        "speeches/event_detail.html",
        event,
        selectors.published_speeches().filter(event=event),
        earlier=earlier,
        later=later,
    )


@require_safe
@cached_for_readers("page")
def person_detail(request, pk):
    person = selectors.get_person(pk=pk)
    return _listing(
        request,
        "speeches/person_detail.html",
        person,
        selectors.published_speeches().filter(speaker=person),
        positions=selectors.person_positions(person=person),
    )


@require_safe
@cached_for_readers("page")
def organization_detail(request, pk):
    organization = selectors.get_organization(pk=pk)
    return _listing(
        request,
        "speeches/organization_detail.html",
        organization,
        selectors.published_speeches().filter(organization=organization),
    )


@require_safe
@cached_for_readers("page")
def year_detail(request, year):
    if not 1 <= year <= 9999:  # no such date
        raise Http404
    speeches = selectors.published_speeches().filter(date__year=year)
    earlier, later = selectors.nearest_years(year=year)
    context = {"earlier": earlier, "later": later}
    if speeches.exists():
        return _listing(request, "speeches/year_detail.html", year, speeches, **context)
    # A year between the archive's first and last is a real answer (nothing that year); one
    # outside them is not a page of the archive, but says the same and where to go.
    inside = earlier is not None and later is not None
    return render(
        request,
        "speeches/year_detail.html",
        {"object": year, "page": None, **context},
        status=200 if inside else 404,
    )


@require_safe
@cached_for_readers("page", "series")
def event_list(request):
    series = request.GET.get("series") or None
    events = selectors.events_with_counts(series=series)
    page = _page(request, events)
    if series and not page.object_list:
        raise Http404
    return render(
        request,
        "speeches/event_list.html",
        {
            "page": page,
            "series": series,
            "all_series": None if series else selectors.series_with_counts(),
            "querystring": urlencode({"series": series}) if series else "",
        },
    )


@require_safe
@cached_for_readers("page", "q")
def person_list(request):
    text = request.GET.get("q", "")[:NAME_FILTER_MAX]
    return render(
        request,
        "speeches/person_list.html",
        {
            "page": _page(request, selectors.people_with_counts(text=text)),
            "q": text,
            "querystring": urlencode({"q": text}) if text else "",
        },
    )


# JSON API -------------------------------------------------------------------


def speech_json(request, speech, *, full):
    data = {
        "id": speech.pk,
        "title": speech.title,
        "subtitle": speech.subtitle,
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
        "event": {
            "id": speech.event.pk,
            "name": speech.event.name,
            "series": speech.event.series,
            "year": speech.event.year,
            "city": speech.event.city,
        }
        if speech.event
        else None,
        "date": speech.date_iso,
        "date_precision": speech.date_precision or None,
        "column": speech.column,
        "url": request.build_absolute_uri(speech.get_absolute_url()),
    }
    if full:
        data["paragraphs"] = [p.text for p in speech.paragraphs.all()]
        data["keywords"] = speech.keywords or []
        data["related"] = [
            {"id": r.pk, "title": r.title, "url": request.build_absolute_uri(r.get_absolute_url())}
            for r in selectors.related_speeches(speech=speech)
        ]
    return data


def _json(data, status=200):
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


@require_safe
def api_speech_detail(request, pk):
    try:
        speech = selectors.get_published_speech(pk=pk)
    except Http404:
        return _json({"detail": "未找到该讲稿。"}, status=404)
    return _json(speech_json(request, speech, full=True))


@require_safe
def api_speech_list(request):
    """The address list with the filters of /speeches/; a filter it cannot read is refused, not
    ignored, so a script never takes every address for the ones it asked for."""
    rejected = selectors.SpeechFilters.rejected(request.GET)
    if rejected:
        return _json(
            {"detail": _("无法识别的筛选条件：%(names)s。") % {"names": "、".join(rejected)}},
            status=400,
        )
    filters = selectors.SpeechFilters.from_query(request.GET)
    paginator = BoundedPaginator(
        selectors.filter_speeches(filters=filters), settings.ARCHIVE_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    query = reader_query(request, LIST_PARAMS[:-1])

    def link(number):
        params = f"{query}&page={number}" if query else f"page={number}"
        return request.build_absolute_uri(f"{reverse('speeches:api_list')}?{params}")

    return _json(
        {
            "count": paginator.count,
            "next": link(page.next_page_number()) if page.has_next() else None,
            "previous": link(page.previous_page_number()) if page.has_previous() else None,
            "results": [speech_json(request, s, full=False) for s in page.object_list],
        }
    )
