"""Reads for the public pages. Everything here sees published addresses only, but for
get_speech_for_staff, which staff's previews of drafts use."""

from collections import Counter
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .models import (
    ArchiveStamp,
    Event,
    Organization,
    Paragraph,
    Person,
    RenderedPage,
    Speech,
    SpeechKind,
    SpeechStatus,
)

_PUBLISHED = Q(speeches__status=SpeechStatus.PUBLISHED)


def archive_version():
    """Changes whenever anything a public page shows is added, edited or deleted."""
    stamp = ArchiveStamp.objects.filter(pk=1).values_list("changed_at", flat=True).first()
    return stamp.timestamp() if stamp else 0


def stored_page(*, pk, language, release):
    """The stored page of a published address, if it is still what the address shows.

    Raw SQL: on the page every reader lands on, compiling the ORM's query costs more than
    running it.
    """
    q = connection.ops.quote_name
    page, speech = q(RenderedPage._meta.db_table), q(Speech._meta.db_table)
    sql = (
        f"SELECT p.compressed_html FROM {page} p JOIN {speech} s ON s.id = p.speech_id"
        " WHERE p.speech_id = %s AND p.language = %s AND p.release = %s AND s.status = %s"
        " AND p.speech_updated_at = s.updated_at AND p.page_version = s.page_version"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, language, release, SpeechStatus.PUBLISHED])
        row = cursor.fetchone()
    return bytes(row[0]) if row else None


# What a speech card shows, by model: the address's own fields and its people's names.
_CARD_FIELDS = (
    (Speech, None, {"id", "title", "subtitle", "position", "date", "date_precision", "kind"}),
    (Person, "speaker", {"id", "name", "note"}),
    (Organization, "organization", {"id", "name"}),
    (Event, "event", {"id", "name"}),
)


def published_cards(*, ids, language=None, release=None):
    """{id: published address} of these ids, loaded with what a speech card shows: its own
    heading fields and the names of its speaker, organization and event (anything else is
    read when first used). With a release, each has `card_head`: the head of its card as
    stored with its page in `language` (speeches.pages), or None if none is current.

    Raw SQL, as stored_page: a results page reads twenty addresses at once, and compiling
    the ORM's four-table query costs more than running it.
    """
    if not ids:
        return {}
    q = connection.ops.quote_name
    columns, joins = _card_query()
    page = (
        f"LEFT JOIN {q(RenderedPage._meta.db_table)} p ON p.speech_id = t0.id"
        " AND p.language = %s AND p.release = %s"
        " AND p.speech_updated_at = t0.updated_at AND p.page_version = t0.page_version"
    )
    sql = (
        f"SELECT {columns}, p.card_html FROM {q(Speech._meta.db_table)} t0 {joins} {page}"
        f" WHERE t0.id IN ({', '.join(['%s'] * len(ids))}) AND t0.status = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [language, release, *ids, SpeechStatus.PUBLISHED])
        rows = cursor.fetchall()
    return {speech.pk: speech for speech in map(_card, rows)}


@cache
def _card_fields():
    """(model, link from Speech, field names in the model's own order) for each table:
    Model.from_db takes values in that order."""
    return [
        (model, link, [f.attname for f in model._meta.concrete_fields if f.attname in wanted])
        for model, link, wanted in _CARD_FIELDS
    ]


@cache
def _card_query():
    q = connection.ops.quote_name
    columns, joins = [], []
    for n, (model, link, names) in enumerate(_card_fields()):
        columns += [f"t{n}.{q(model._meta.get_field(name).column)}" for name in names]
        if link:
            fk = q(Speech._meta.get_field(link).column)
            joins.append(f"LEFT JOIN {q(model._meta.db_table)} t{n} ON t{n}.id = t0.{fk}")
    return ", ".join(columns), " ".join(joins)


def _card(row):
    values = iter(row)
    parts = [
        (model, link, names, [next(values) for _ in names]) for model, link, names in _card_fields()
    ]
    speech = Speech.from_db(connection.alias, parts[0][2], parts[0][3])
    for model, link, names, related in parts[1:]:
        loaded = model.from_db(connection.alias, names, related) if related[0] else None
        Speech._meta.get_field(link).set_cached_value(speech, loaded)
    head = next(values)
    speech.card_head = mark_safe(head) if head else None
    return speech


def paragraph_texts(*, wanted):
    """{(speech id, position): text} of these paragraphs, in one query (raw SQL: see above)."""
    if not wanted:
        return {}
    q = connection.ops.quote_name
    speeches, positions = sorted({s for s, _ in wanted}), sorted({p for _, p in wanted})
    sql = (
        f"SELECT speech_id, position, text FROM {q(Paragraph._meta.db_table)}"
        f" WHERE speech_id IN ({', '.join(['%s'] * len(speeches))})"
        f" AND position IN ({', '.join(['%s'] * len(positions))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*speeches, *positions])
        return {(s, p): text for s, p, text in cursor.fetchall() if (s, p) in wanted}


def published_speeches():
    return Speech.objects.published().with_related()


def get_published_speech(*, pk):
    """The address, or 404 for unknown ids and drafts alike."""
    return get_object_or_404(published_speeches(), pk=pk)


def get_speech_for_staff(*, pk):
    """The address, drafts included, or 404: only for staff who may view speeches."""
    return get_object_or_404(Speech.objects.with_related(), pk=pk)


@dataclass(frozen=True)
class SpeechFilters:
    year: int | None = None
    event: int | None = None
    speaker: int | None = None
    organization: int | None = None
    kind: str | None = None
    sort: str = "-date"

    SORTS = {"-date": _("最新在前"), "date": _("最早在前")}

    @classmethod
    def from_query(cls, params):
        def number(name):
            value = params.get(name, "")
            return int(value) if value.isdigit() and len(value) < 10 else None

        kind = params.get("kind")
        sort = params.get("sort", "-date")
        return cls(
            year=number("year"),
            event=number("event"),
            speaker=number("speaker"),
            organization=number("organization"),
            kind=kind if kind in SpeechKind.values else None,
            sort=sort if sort in cls.SORTS else "-date",
        )


def filter_speeches(*, filters):
    qs = published_speeches()
    if filters.year:
        qs = qs.filter(date__year=filters.year)
    if filters.event:
        qs = qs.filter(event_id=filters.event)
    if filters.speaker:
        qs = qs.filter(speaker_id=filters.speaker)
    if filters.organization:
        qs = qs.filter(organization_id=filters.organization)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.sort == "date":
        return qs.order_by("date", "pk")
    return qs.by_date()


def filter_choices(*, queryset):
    """Options for each list filter, counted over the addresses already filtered."""
    return {
        "years": year_counts(queryset=queryset),
        "events": queryset.exclude(event=None)
        .values("event_id", "event__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "event__name"),
        "speakers": queryset.exclude(speaker=None)
        .values("speaker_id", "speaker__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "speaker__name"),
        "organizations": queryset.exclude(organization=None)
        .values("organization_id", "organization__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "organization__name"),
        "kinds": [
            {**row, "label": SpeechKind(row["kind"]).label}
            for row in queryset.order_by().values("kind").annotate(n=Count("pk")).order_by("-n")
        ],
    }


def year_counts(*, queryset):
    """[{"y": 2024, "n": 3}, …], newest first.

    Counted per distinct date and summed here: SQLite extracts a year through a Python
    function call per row, which made this the slowest query of the list page.
    """
    years = Counter()
    for row in queryset.exclude(date=None).order_by().values("date").annotate(n=Count("pk")):
        years[row["date"].year] += row["n"]
    return [{"y": y, "n": n} for y, n in sorted(years.items(), reverse=True)]


def neighbours(*, speech_id, event_id):
    """The previous and next published address of the event around `speech_id`, by date then
    id; (None, None) where the address is not a published one of an event."""
    if not event_id:
        return None, None
    siblings = list(
        Speech.objects.published()
        .filter(event_id=event_id)
        .order_by("date", "pk")
        .only("pk", "title")
    )
    index = next((i for i, s in enumerate(siblings) if s.pk == speech_id), None)
    if index is None:
        return None, None
    previous = siblings[index - 1] if index > 0 else None
    following = siblings[index + 1] if index + 1 < len(siblings) else None
    return previous, following


def home_summary(*, latest=10):
    speeches = published_speeches()
    return {
        "latest": speeches.by_date()[:latest],
        "events": events_with_counts()[:10],
        "speakers": people_with_counts()[:10],
        "counts": {
            "speeches": speeches.count(),
            "events": events_with_counts().count(),
            "speakers": people_with_counts().count(),
            "organizations": organizations_with_counts().count(),
        },
        "years": year_counts(queryset=speeches),
    }


def events_with_counts():
    return (
        Event.objects.annotate(n=Count("speeches", filter=_PUBLISHED))
        .filter(n__gt=0)
        .order_by("-year", "name")
    )


def people_with_counts():
    return (
        Person.objects.annotate(n=Count("speeches", filter=_PUBLISHED))
        .filter(n__gt=0)
        .order_by("-n", "name")
    )


def organizations_with_counts():
    return (
        Organization.objects.annotate(n=Count("speeches", filter=_PUBLISHED))
        .filter(n__gt=0)
        .order_by("-n", "name")
    )


# Readers see an event, person or organization only through a published address: one named
# only by drafts is not public yet. An organization is public as an event's organizer too.
def get_event(*, pk):
    return get_object_or_404(
        Event.objects.select_related("organizer").filter(_PUBLISHED).distinct(), pk=pk
    )


def get_person(*, pk):
    return get_object_or_404(Person.objects.filter(_PUBLISHED).distinct(), pk=pk)


def get_organization(*, pk):
    organizes = Q(organized_events__speeches__status=SpeechStatus.PUBLISHED)
    return get_object_or_404(Organization.objects.filter(_PUBLISHED | organizes).distinct(), pk=pk)


def person_positions(*, person):
    """Each position and organization the person spoke in, with the years (a career at a glance)."""
    return (
        published_speeches()
        .filter(speaker=person)
        .values("position", "organization__name", "organization_id")
        .annotate(n=Count("pk"))
        .order_by("organization__name", "position")
    )
