"""The research pages, term trends and the concordance (上下文), their JSON and their CSV."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from config.security import bounded_page_number, rate_limited

from . import charts, research
from .engine.counting import SORTS
from .presenters import IGNORED_NOTICE, TRUNCATED_NOTICE, csv_response, page_of
from .service import Filters, uses_own_engine

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).


def _filters_params(filters):
    return dict(filters.items())


# -- trends ------------------------------------------------------------------------------------


@require_safe
@rate_limited
def trends_page(request):
    filters = Filters.from_params(request.GET)
    outcome = research.trends(query=request.GET.get("q", ""), filters=filters)
    series = [
        charts.Series(
            trend.term,
            [
                (p.year, p.per_10k, _point_text(trend, p), _year_search(trend, p, filters))
                for p in trend.years
            ],
        )
        for trend in outcome.terms
    ]
    chart = ""
    if series:
        title = _("每万字出现次数：%(terms)s") % {"terms": "、".join(t.term for t in outcome.terms)}
        chart = charts.trend_chart(
            series, title=title, x_label=_("年份"), y_label=_("每万字出现次数")
        )
    context = {
        "terms_query": outcome.raw,  # not `query`: the header's search box would take it
        "outcome": outcome,
        "chart": mark_safe(chart),  # noqa: S308 - every text in it is escaped by charts
        "rows": _table_rows(outcome),
        "notice": _trends_notice(outcome),
        "filters": filters,
        "hidden": _filters_params(filters),
        "max_terms": research.MAX_TRENDS,
        "api": reverse("search:trends_api") + "?" + request.GET.urlencode(),
        "csv": reverse("search:trends_api") + "?" + _with(request, format="csv"),
    }
    return render(request, "search/trends.html", context)


def _point_text(trend, point):
    return _("%(term)s，%(year)d年：%(count)d 次，%(addresses)d 篇，每万字 %(rate)s 次") % {
        "term": trend.term,
        "year": point.year,
        "count": point.count,
        "addresses": point.addresses,
        "rate": f"{point.per_10k:g}",
    }


def _year_search(trend, point, filters):
    if not point.count:
        return ""
    params = {"q": trend.query, **_filters_params(filters), "year": str(point.year)}
    return reverse("search:search") + "?" + urlencode(params)


def _table_rows(outcome):
    """(year, [each term's Point of that year]) for every year, in order."""
    by_year = {}
    for trend in outcome.terms:
        for p in trend.years:
            by_year.setdefault(p.year, []).append(p)
    return [(year, points) for year, points in sorted(by_year.items())]


def _engine_notice():
    """Settings naming another haystack engine (search.other_engines): counts need ours."""
    if uses_own_engine():
        return []
    return [_("词频趋势与上下文只能由本站自带的检索引擎计算；当前设置使用的是另一个检索引擎。")]


def _trends_notice(outcome):
    parts = _engine_notice()
    parts += [TRUNCATED_NOTICE % {"n": research.MAX_QUERY_CHARS}] if outcome.truncated else []
    if outcome.dropped:
        parts.append(
            _("最多比较 %(n)d 个词，未用：%(terms)s。")
            % {"n": research.MAX_TRENDS, "terms": "、".join(outcome.dropped)}
        )
    return " ".join(parts)


@require_safe
def trends_api(request):
    outcome = research.trends(
        query=request.GET.get("q", ""), filters=Filters.from_params(request.GET)
    )
    if request.GET.get("format") == "csv":
        header = ["term", "year", "count", "addresses", "chars", "per_10k"]
        rows = [
            [t.term, p.year, p.count, p.addresses, p.chars, p.per_10k]
            for t in outcome.terms
            for p in t.years
        ]
        return csv_response(header, rows, filename="trends.csv")
    answer = {
        "query": outcome.raw,
        "filters": outcome.filters,
        "notice": _trends_notice(outcome),
        "terms": [
            {
                "term": t.term,
                "query": t.query,
                "total": t.total,
                "addresses": t.addresses,
                "years": [
                    {
                        "year": p.year,
                        "count": p.count,
                        "addresses": p.addresses,
                        "chars": p.chars,
                        "per_10k": p.per_10k,
                    }
                    for p in t.years
                ],
                "speakers": [
                    {
                        "id": int(s.id),
                        "name": s.name,
                        "count": s.count,
                        "chars": s.chars,
                        "per_10k": s.per_10k,
                    }
                    for s in t.speakers
                ],
            }
            for t in outcome.terms
        ],
    }
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})


# -- the concordance ---------------------------------------------------------------------------

SORT_TEXT = {
    "date": gettext_lazy("最新在前"),
    "oldest": gettext_lazy("最早在前"),
    "address": gettext_lazy("按讲稿"),
    "left": gettext_lazy("按左侧语境"),
    "right": gettext_lazy("按右侧语境"),
}


CONCORDANCE_COLUMNS = (
    "speech_id",
    "title",
    "date",
    "speaker",
    "paragraph",
    "left",
    "match",
    "right",
    "url",
)


def _concordance_args(request, page_size=research.CONCORDANCE_PAGE_SIZE):
    return {
        "query": request.GET.get("q", ""),
        "filters": Filters.from_params(request.GET),
        "sort": request.GET.get("sort", "date"),
        "page": bounded_page_number(request.GET.get("page"), page_size),
    }


def _with(request, **changes):
    """This request's parameters, changed, without its page, URL-encoded."""
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


@require_safe
@rate_limited
def concordance_page(request):
    args = _concordance_args(request)
    outcome = research.concordance(**args)
    parsed = outcome.query
    notice = _engine_notice()
    notice += [TRUNCATED_NOTICE % {"n": research.MAX_QUERY_CHARS}] if parsed.truncated else []
    notice += [IGNORED_NOTICE % {"what": what} for what in parsed.ignored]
    sorts = [(s, SORT_TEXT[s], "?" + _with(request, sort=s)) for s in SORTS]
    context = {
        "query": parsed.raw,
        "outcome": outcome,
        "page": page_of(
            count=outcome.count,
            items=outcome.lines,
            page_size=outcome.page_size,
            number=outcome.page,
        ),
        "querystring": _with(request),
        "sorts": sorts,
        "notice": " ".join(notice),
        "window": settings.ARCHIVE_MAX_RESULTS,
        "hidden": _filters_params(args["filters"]),
        "csv": reverse("search:concordance_api") + "?" + _with(request, format="csv"),
        "api": reverse("search:concordance_api") + "?" + request.GET.urlencode(),
        "search": reverse("search:search") + "?" + _with(request, sort="relevance"),
        "trends": reverse("search:trends") + "?" + urlencode({"q": parsed.raw}),
    }
    return render(request, "search/concordance.html", context)


@require_safe
def concordance_api(request):
    args = _concordance_args(request)
    if request.GET.get("format") == "csv":
        outcome = research.concordance(**args, limit=research.export_limit())
        header = list(CONCORDANCE_COLUMNS)
        rows = [_line_json(line, request.build_absolute_uri).values() for line in outcome.lines]
        return csv_response(header, rows, filename="concordance.csv")
    outcome = research.concordance(**args)
    return JsonResponse(
        {
            "query": outcome.query.raw,
            "count": outcome.count,
            "page": outcome.page,
            "num_pages": min(outcome.num_pages, settings.ARCHIVE_MAX_RESULTS // outcome.page_size),
            "sort": outcome.sort,
            "results": [_line_json(line, request.build_absolute_uri) for line in outcome.lines],
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _line_json(line, absolute):
    speech = line.speech
    return {
        "speech_id": speech.pk,
        "title": speech.title,
        "date": speech.date_iso,
        "speaker": speech.speaker.name if speech.speaker else None,
        "paragraph": line.paragraph,
        "left": line.left,
        "match": line.match,
        "right": line.right,
        "url": absolute(line.url),
    }


# -- CSV ---------------------------------------------------------------------------------------
