import pytest

from speeches import selectors

from .factories import make_speech

pytestmark = pytest.mark.django_db


def test_paragraph_texts_are_the_ones_asked_for(django_assert_num_queries):
    one = make_speech(paragraphs=["甲一", "甲二", "甲三"])
    two = make_speech(paragraphs=["乙一", "乙二"])
    with django_assert_num_queries(1):
        texts = selectors.paragraph_texts(wanted={(one.pk, 3), (two.pk, 1)})
    assert texts == {(one.pk, 3): "甲三", (two.pk, 1): "乙一"}
