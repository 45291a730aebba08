"""Speech cards for search results: loaded in one query, rendered with no other."""

import datetime

import pytest
from django.template.loader import render_to_string

from speeches import cards
from speeches.models import SpeechStatus

from .factories import make_speech

pytestmark = pytest.mark.django_db


def test_cards_load_published_addresses_and_their_names_in_one_query(django_assert_num_queries):
    full = make_speech(
        title="致辞",
        subtitle="副题",
        speaker="周宇",
        organization="中国轴承工业协会",
        event="2024 上海国际轴承峰会",
        date=datetime.date(2024, 11, 20),
        position="会长",
    )
    bare = make_speech(title="无名", speaker=None, date=None)
    draft = make_speech(title="草稿", status=SpeechStatus.DRAFT)
    with django_assert_num_queries(1):
        loaded = cards.published_cards(ids=[full.pk, bare.pk, draft.pk, 999999])
        assert loaded.keys() == {full.pk, bare.pk}
        card = loaded[full.pk]
        assert (card.title, card.subtitle, card.position, card.kind) == (
            "致辞",
            "副题",
            "会长",
            full.kind,
        )
        assert card.date == datetime.date(2024, 11, 20) and card.date_display == full.date_display
        assert (card.speaker.name, card.organization.name, card.event.name) == (
            "周宇",
            "中国轴承工业协会",
            "2024 上海国际轴承峰会",
        )
        assert card.speaker.get_absolute_url() == full.speaker.get_absolute_url()
        assert loaded[bare.pk].speaker is None and loaded[bare.pk].date is None
    assert card.updated_at == full.updated_at  # not loaded: read when first used


def test_the_card_template_shows_only_what_the_loader_loaded(django_assert_num_queries):
    """A field added to the card template but not to CARD_FIELDS would cost a query per card."""
    full = make_speech(
        title="致辞",
        speaker="周宇",
        organization="中国轴承工业协会",
        event="2024 上海国际轴承峰会",
        date=datetime.date(2024, 11, 20),
        position="会长",
    )
    (card,) = cards.published_cards(ids=[full.pk]).values()
    with django_assert_num_queries(0):
        html = render_to_string("includes/speech_card.html", {"speech": card})
    for shown in (
        "致辞",
        "周宇",
        "会长",
        "中国轴承工业协会",
        "2024 上海国际轴承峰会",
        "2024年11月20日",
    ):
        assert shown in html
