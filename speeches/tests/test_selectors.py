import datetime

import pytest

from speeches import selectors
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
        cards = selectors.published_cards(ids=[full.pk, bare.pk, draft.pk, 999999])
        assert cards.keys() == {full.pk, bare.pk}
        card = cards[full.pk]
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
        assert cards[bare.pk].speaker is None and cards[bare.pk].date is None
    assert card.updated_at == full.updated_at  # not loaded: read when first used


def test_paragraph_texts_are_the_ones_asked_for(django_assert_num_queries):
    one = make_speech(paragraphs=["甲一", "甲二", "甲三"])
    two = make_speech(paragraphs=["乙一", "乙二"])
    with django_assert_num_queries(1):
        texts = selectors.paragraph_texts(wanted={(one.pk, 3), (two.pk, 1)})
    assert texts == {(one.pk, 3): "甲三", (two.pk, 1): "乙一"}
