"""An Outcome of search.service as a page's context or as JSON: what each shows of it."""

from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from config.security import max_pages
from speeches.models import SpeechKind

from .engine.query import MAX_QUERY_CHARS
from .service import FACETS

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


def page_context(outcome, *, link):
    """What the results template shows. `link(**changes)`: "?…" to this page, changed."""
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
        {**s, "text": SUGGESTION_TEXT[s["kind"]], "url": link.only(q=s["q"])}
        for s in outcome.suggestions
    ]
    return {
        "query": outcome.query.raw,
        "parsed": outcome.query,
        "outcome": outcome,
        "cards": cards,
        "facets": facets,
        "suggestions": suggestions,
        "notice": notice(outcome),
    }


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


def snippet_list_html(snippets):
    """A card's list of snippets. Joined here rather than looped over in the card's template:
    Django renders each variable node of twenty cards' sixty snippets on its own, which took a
    fifth of the results page's time. `html` is escaped already (engine.snippets)."""
    if not snippets:
        return ""
    items = "".join(
        f'<li><a class="snippet-anchor" href="{escape(s.url)}">§{s.paragraph:d}</a> {s.html}</li>'
        for s in snippets
    )
    return mark_safe(f'<ul class="snippets">{items}</ul>')


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
