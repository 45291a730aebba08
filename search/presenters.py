"""An Outcome of search.service as a page's context or as JSON: what each shows of it."""

import csv
import io
import re
from html import escape, unescape
from urllib.parse import urlencode

from django.http import HttpResponse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config.security import BoundedPaginator, max_pages
from speeches.models import SpeechKind

from .engine.query import MAX_QUERY_CHARS
from .service import FACETS, SORTS, facet_label

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
NAME_KINDS = {"Person": _("讲者"), "Organization": _("机构"), "Event": _("会议活动")}
SORT_TEXT = {"relevance": _("相关度"), "date": _("最新在前"), "oldest": _("最早在前")}
TRUNCATED_NOTICE = _("检索词过长，只用了前 %(n)d 个字。")
# Options shown per facet, the most frequent, until the reader asks for more (?more=speaker);
# every year is always shown. A facet asked for in full stops at FACET_ALL.
FACET_OPTIONS = 15
FACET_ALL = 500
# Clickable examples of the query syntax, shown on the empty search page and when nothing is
# found: (what to type, what it shows).
SYNTAX_EXAMPLES = [
    ("质生产", _("任意连续的字都能找到原文，不论怎样分词")),
    ("“高质量发展”", _("加引号，只找完整短语")),
    ("轴承 -钢铁", _("-词：排除含该词的讲稿")),
    ("新冠肺炎 OR 汶川", _("OR：任一即可")),
    ("speaker:周宇", _("讲者；也可用 org:机构、event:会议")),
    ("year:2015-2024 轴承", _("年份或年份区间；正文里的“2024年”按字检索")),
    ("新質生產力", _("繁体、简体、全角、半角、大小写都一样")),
]


def page_context(outcome, *, link, filters, sort, expanded=""):
    """What the results template shows. `link(**changes)`: "?…" to this page, changed;
    `expanded`: the facet shown in full (?more=…)."""
    facets = [
        _facet(name, options, link, expanded=name == expanded)
        for name in FACETS
        if (options := outcome.facets.get(name))
    ]
    # The kind's label once per kind, not get_kind_display() (every label translated) per card.
    kinds = {value: str(label) for value, label in SpeechKind.choices}
    marked = "?" + urlencode({"hl": marked_query(outcome.query)}) if outcome.query.raw else ""
    more = gettext("另 %(n)d 段")
    cards = [
        {"hit": hit, "kind": kinds.get(hit.speech.kind), "snippets": _snippets(hit, marked, more)}
        for hit in outcome.hits
    ]
    suggestions = [
        {**s, "text": SUGGESTION_TEXT[s["kind"]], "url": link.only(q=s["q"])}
        for s in outcome.suggestions
    ]
    return {
        "query": outcome.query.raw,
        "parsed": outcome.query,
        "reading": _reading(outcome.query),
        "outcome": outcome,
        "cards": cards,
        "facets": facets,
        "chips": _chips(filters, outcome.facets, link),
        "sort": sort,
        "sorts": [(s, SORT_TEXT[s], link(sort=s)) for s in SORTS],
        "suggestions": suggestions,
        "examples": [(q, text, link.only(q=q)) for q, text in SYNTAX_EXAMPLES],
        "notice": notice(outcome),
        "words_link": link(match="words"),
        "exact_link": link(match=""),
        "has_synonyms": any(t.synonyms for t in outcome.query.positive_terms),
        "names": [(n, NAME_KINDS[type(n).__name__]) for n in outcome.names],
        "synonyms_links": (link(syn="0"), link(syn="")),
    }


CSV_HEADER = (
    "id", "title", "subtitle", "date", "kind", "speaker", "position", "organization", "event",
    "occurrences", "score", "snippet", "url",
)  # fmt: skip
# A cell a spreadsheet would run as a formula starts with one of these: it gets a ' first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(outcome, *, absolute):
    """One row an address of the outcome, in CSV_HEADER's order."""
    for hit in outcome.hits:
        speech = hit.speech
        names = (speech.speaker, speech.organization, speech.event)
        snippet = _plain(hit.snippets[0].html) if hit.snippets else ""
        row = [speech.pk, speech.title, speech.subtitle, speech.date_iso or "", speech.kind]
        row += [names[0].name if names[0] else "", speech.position]
        row += [n.name if n else "" for n in names[1:]]
        yield row + [hit.occurrences, hit.score, snippet, absolute(speech.get_absolute_url())]


def csv_response(header, rows, *, filename):
    """UTF-8 CSV with a byte order mark, so that Excel reads it as UTF-8; a text cell that a
    spreadsheet would run as a formula starts with an apostrophe instead."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def safe_cell(value):
    """A CSV cell a spreadsheet shows as text, never runs (CSV formula injection)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def page_of(*, count, items, page_size, number):
    """A Paginator page of `items`, fetched already, numbered among `count` in all."""
    return BoundedPaginator(_Fetched(count, items), page_size).get_page(number)


class _Fetched:
    """What Paginator needs to number pages whose items were fetched already."""

    def __init__(self, count, items):
        self._count, self.items = count, items

    def count(self):
        return self._count

    def __len__(self):
        return self._count

    def __getitem__(self, _slice):
        return self.items


def _plain(html):
    return unescape(re.sub(r"<[^>]+>", "", html))


def marked_query(parsed):
    """What the address page marks (?hl=) for this reading: the query itself, or in the words
    reading its words, each then marked as it stands."""
    if parsed.match != "words":
        return parsed.raw
    return " ".join(
        f"“{t.phrase}”" if t.phrase else " ".join(t.pieces) for t in parsed.positive_terms
    )


def _reading(parsed):
    """How the query was understood: groups that must all match, each a list of terms of
    which one must match (A OR B), each term its pieces ("新冠 / 肺炎") or “a phrase”."""
    return [[term.label for term in group] for group in parsed.groups]


def _chips(filters, facets, link):
    """The facet values chosen, each with a link that drops it."""
    chips = []
    for name, value in filters.items():
        labels = [o["label"] for o in facets.get(name, ()) if o["selected"]]
        label = labels[0] if labels else facet_label(name, value)
        chips.append({"title": FACET_TITLES[name], "label": label, "url": link(**{name: ""})})
    return chips


def _facet(name, options, link, *, expanded):
    """A facet: every year; of the others the most frequent, the rest behind 更多."""
    shown = len(options) if name == "year" else FACET_ALL if expanded else FACET_OPTIONS
    hidden = len(options) - shown
    return {
        "name": name,
        "title": FACET_TITLES[name],
        "options": _facet_options_html(name, options[:shown], link),
        "more": link(more=name) + f"#facet-{name}" if hidden > 0 and not expanded else "",
        "hidden": hidden,
        "less": link(more="") + f"#facet-{name}" if expanded else "",
    }


def _snippets(hit, marked, more):
    """A card's first snippet, the others behind 另 N 段, and 命中 N 处 linking to the address
    with the query marked. Joined here rather than looped over in the card's template: Django
    renders each variable node of twenty cards' sixty snippets on its own, which took a fifth
    of the results page's time. A snippet's `html` is escaped already (engine.snippets)."""
    if not hit.snippets:
        return ""
    items = [
        f'<li><a class="snippet-anchor" href="{escape(hit.url + marked)}#p{s.paragraph:d}">'
        f"§{s.paragraph:d}</a> {s.html}</li>"
        for s in hit.snippets
    ]
    below = []
    if hit.occurrences:
        count = ngettext("命中 %(n)d 处", "命中 %(n)d 处", hit.occurrences) % {"n": hit.occurrences}
        below.append(f'<a class="hit-count" href="{escape(hit.url + marked)}#hl-1">{count}</a>')
    if len(items) > 1:
        below.append(
            f'<details class="more-snippets"><summary>{more % {"n": len(items) - 1}}</summary>'
            f'<ul class="snippets">{"".join(items[1:])}</ul></details>'
        )
    html = f'<ul class="snippets">{items[0]}</ul>'
    return mark_safe(html + (f'<div class="hit-more">{"".join(below)}</div>' if below else ""))


def as_json(outcome, *, sort, absolute, page_url):
    """The search API's answer; `absolute(path)`: the full URL of a path; `page_url(n)`: the
    full URL of page n of these results."""
    num_pages = min(outcome.num_pages, max_pages(outcome.page_size))

    def page(number):
        return page_url(number) if 1 <= number <= num_pages else None

    return {
        "query": outcome.query.raw,
        "tokens": outcome.query.tokens,
        "count": outcome.count,
        "page": outcome.page,
        "num_pages": num_pages,
        "query_truncated": outcome.query.truncated,
        "notice": notice(outcome),
        "sort": sort,
        "match": outcome.query.match,
        "fallback": outcome.fallback,
        "broader": outcome.broader,
        "next": page(outcome.page + 1),
        "previous": page(outcome.page - 1),
        "results": [_hit_json(hit, absolute) for hit in outcome.hits],
        "facets": {
            name: [{k: o[k] for k in ("value", "label", "count")} for o in options]
            for name, options in outcome.facets.items()
        },
        "suggestions": outcome.suggestions,
    }


IGNORED_NOTICE = _("“%(what)s”不是本站的检索语法，已忽略。")


def _hit_json(hit, absolute):
    """One result: what the speeches list API gives for an address (ids to follow with its
    filters), from the fields the results page loaded, and the hit's score and snippets."""
    speech = hit.speech
    speaker, organization, event = speech.speaker, speech.organization, speech.event
    return {
        "id": speech.pk,
        "title": speech.title,
        "subtitle": speech.subtitle,
        "url": absolute(speech.get_absolute_url()),
        "date": speech.date_iso,
        "date_precision": speech.date_precision or None,
        "kind": speech.kind,
        "speaker": {"id": speaker.pk, "name": speaker.name, "position": speech.position}
        if speaker
        else None,
        "organization": {"id": organization.pk, "name": organization.name}
        if organization
        else None,
        "event": {"id": event.pk, "name": event.name} if event else None,
        "score": hit.score,
        "snippets": [{"paragraph": s.paragraph, "html": str(s.html)} for s in hit.snippets],
    }


def notice(outcome):
    parts = [TRUNCATED_NOTICE % {"n": MAX_QUERY_CHARS}] if outcome.query.truncated else []
    parts += [IGNORED_NOTICE % {"what": what} for what in outcome.query.ignored]
    return " ".join(parts)


def _facet_options_html(name, options, link):
    """A facet's options as list items. Joined here rather than looped over in the template
    (seventy-five options, five variables each, took a fifth of the page's rendering), and
    escaped by the standard library's escape, which Django's format_html wraps at ten times
    the cost."""
    items, setting = [], link.setting(name)
    for o in options:
        url, label = escape(setting("" if o["selected"] else o["value"])), escape(o["label"])
        if o["selected"]:
            items.append(f'<li class="selected"><a href="{url}" aria-current="true">{label}</a>')
        else:
            items.append(f'<li><a href="{url}">{label}</a>')
        items.append(f' <span class="count">{o["count"]:d}</span></li>')
    return mark_safe("".join(items))
