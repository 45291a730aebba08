"""Speech cards for search results: twenty published addresses loaded at once with exactly
what the card template shows (CARD_FIELDS), and the card head stored with each one's page."""

from functools import cache

from django.db import connection
from django.utils.safestring import mark_safe

from .models import Event, Organization, Person, RenderedPage, Speech, SpeechStatus

# What templates/includes/speech_card_head.html shows, by model: the address's own fields and
# its people's names. A field the card shows must be here: one the loader leaves out is read
# with a query of its own for every card (speeches/tests/test_cards.py fails then).
CARD_FIELDS = (
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
        for model, link, wanted in CARD_FIELDS
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
