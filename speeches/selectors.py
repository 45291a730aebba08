"""Reads for the public pages. Everything here sees published addresses only, but for
get_speech_for_staff, which staff's previews of drafts use."""

from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from . import pinyin
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


def paragraph_texts(*, wanted):
    """{(speech id, position): text} of these paragraphs (raw SQL: see above), each pair looked
    up in the (speech, position) index: a long report's chosen paragraphs are far apart, and
    asking for every position of every speech read rows by the thousand."""
    q = connection.ops.quote_name
    pairs, texts = sorted(wanted), {}
    for at in range(0, len(pairs), _PAIRS_PER_QUERY):
        part = pairs[at : at + _PAIRS_PER_QUERY]
        sql = (
            f"SELECT speech_id, position, text FROM {q(Paragraph._meta.db_table)} WHERE "
            + " OR ".join(["(speech_id = %s AND position = %s)"] * len(part))
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for pair in part for value in pair])
            texts.update(((s, p), text) for s, p, text in cursor.fetchall())
    return texts


# Well under SQLite's limit of bound parameters.
_PAIRS_PER_QUERY = 400


def published_speeches():
    return Speech.objects.published().with_related()


def get_published_speech(*, pk):
    """The address, or 404 for unknown ids and drafts alike."""
    return get_object_or_404(published_speeches(), pk=pk)


def related_speeches(*, speech):
    """The published addresses stored as most like this one, in their order."""
    found = published_speeches().in_bulk(speech.related_ids or [])
    return [found[pk] for pk in speech.related_ids or [] if pk in found]


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

    @classmethod
    def rejected(cls, params):
        """The names of the filters given in `params` with a value from_query cannot read."""
        read = cls.from_query(params)
        given = [name for name in cls.__dataclass_fields__ if params.get(name)]
        return [
            name
            for name in given
            if getattr(read, name) is None or (name == "sort" and read.sort != params[name])
        ]


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
        # Events by date, newest first, as the years: sessions of a series read in order.
        "events": queryset.exclude(event=None)
        .values("event_id", "event__name")
        .annotate(n=Count("pk"), first=Min("date"))
        .order_by(
            Coalesce("event__start_date", "first").desc(nulls_last=True),
            "-event__year",
            "event__name",
        ),
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


def nearest_years(*, year):
    """The nearest year before `year` and after it that have published addresses, or None."""
    dated = Speech.objects.published().exclude(date=None)
    before = dated.filter(date__year__lt=year).aggregate(d=Max("date"))["d"]
    after = dated.filter(date__year__gt=year).aggregate(d=Min("date"))["d"]
    return (before.year if before else None), (after.year if after else None)


def neighbours(*, speech_id, event_id):
    """The previous and next published address around `speech_id`, by date then id, among the
    addresses of its event's series (the sessions of a congress follow each other), or of its
    event when that has no series; (None, None) where the address is not a published one of an
    event."""
    if not event_id:
        return None, None
    series = Event.objects.filter(pk=event_id).values_list("series", flat=True).first()
    siblings = list(
        Speech.objects.published()
        .filter(Q(event__series=series) if series else Q(event_id=event_id))
        .select_related("event")
        .order_by("date", "pk")
        .only("pk", "title", "event_id", "event__name")
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


def events_with_counts(*, series=None):
    """Events with published addresses, newest first by their dates (or their first address's),
    then by name; only those of `series` if given."""
    events = Event.objects.annotate(
        n=Count("speeches", filter=_PUBLISHED),
        first=Min("speeches__date", filter=_PUBLISHED),
    ).filter(n__gt=0)
    if series is not None:
        events = events.filter(series=series)
    return events.order_by(Coalesce("start_date", "first").desc(nulls_last=True), "-year", "name")


def series_with_counts():
    """[{"series", "n"}]: each series and how many of its events are public, largest first."""
    return (
        Event.objects.filter(_PUBLISHED)
        .exclude(series="")
        .values("series")
        .annotate(n=Count("pk", distinct=True))
        .order_by("-n", "series")
    )


def series_neighbours(*, event):
    """The earlier and later public event of the event's series, by date; (None, None) for an
    event without a series."""
    if not event.series:
        return None, None
    events = list(events_with_counts(series=event.series).only("pk", "name"))
    index = next((i for i, e in enumerate(events) if e.pk == event.pk), None)
    if index is None:
        return None, None
    earlier = events[index + 1] if index + 1 < len(events) else None
    later = events[index - 1] if index > 0 else None
    return earlier, later


def people_with_counts(*, text=""):
    """Speakers of published addresses, the most prolific first; with `text`, those whose name
    holds it or whose pinyin starts with it (周宇: 周, zhouyu, zhou yu, zy)."""
    people = Person.objects.annotate(n=Count("speeches", filter=_PUBLISHED)).filter(n__gt=0)
    text = text.strip()
    if text:
        people = people.filter(Q(name__icontains=text) | _pinyin_match(text))
    return people.order_by("-n", "name")


def _pinyin_match(text):
    """Rows one of whose pinyin forms starts with what `text` spells; none if it spells
    nothing (Chinese, digits)."""
    letters = pinyin.query(text)
    if not letters:
        return Q(pk__in=[])
    return Q(pinyin__startswith=letters) | Q(pinyin__contains=f" {letters}")


def names_by_pinyin(*, text, limit=5):
    """People, organizations and events of published addresses that `text` spells in pinyin
    (zhouyu, zhou yu, zy → 周宇): those it spells whole first, then people before
    organizations before events, shorter names first. [] when `text` cannot be pinyin."""
    letters = pinyin.query(text)
    if not letters:
        return []
    organizes = Q(organized_events__speeches__status=SpeechStatus.PUBLISHED)
    found = []
    for rank, queryset in enumerate(
        [
            Person.objects.filter(_PUBLISHED),
            Organization.objects.filter(_PUBLISHED | organizes),
            Event.objects.filter(_PUBLISHED),
        ]
    ):
        rows = queryset.filter(_pinyin_match(letters)).distinct().order_by("name", "pk")
        found += [
            (letters not in row.pinyin.split(), rank, len(row.name), row) for row in rows[:limit]
        ]
    found.sort(key=lambda match: match[:3])
    return [row for *_, row in found[:limit]]


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
