import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse, set_script_prefix

from speeches.models import (
    DatePrecision,
    Paragraph,
    Person,
    Speech,
    SpeechStatus,
    date_from_parts,
    record_url,
)

from .factories import make_speech

pytestmark = pytest.mark.django_db


def test_published_hides_drafts():
    published = make_speech(title="公开")
    make_speech(title="草稿", status=SpeechStatus.DRAFT)
    assert list(Speech.objects.published()) == [published]


@pytest.mark.parametrize(
    ("parts", "display", "iso"),
    [
        ((2024,), "2024年", "2024"),
        ((2024, 11), "2024年11月", "2024-11"),
        ((2024, 11, 20), "2024年11月20日", "2024-11-20"),
    ],
)
def test_date_is_shown_at_its_precision(parts, display, iso):
    date, precision = date_from_parts(*parts)
    speech = make_speech(date=date, precision=precision)
    assert (speech.date_display, speech.date_iso) == (display, iso)


def test_year_precision_cannot_carry_an_invented_day():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_speech(date=datetime.date(2024, 11, 20), precision=DatePrecision.YEAR)


def test_a_date_needs_a_precision():
    with pytest.raises(IntegrityError), transaction.atomic():
        Speech.objects.create(title="无精度", date=datetime.date(2024, 1, 1), date_precision="")


def test_status_must_be_a_known_value():
    with pytest.raises(IntegrityError), transaction.atomic():
        Speech.objects.create(title="x", status="deleted")


def test_paragraph_positions_are_unique_per_speech():
    speech = make_speech(paragraphs=["一"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Paragraph.objects.create(speech=speech, position=1, text="重复")


def test_one_person_speaks_in_different_positions_over_the_years():
    first = make_speech(speaker="李四", organization="甲协会", position="秘书长")
    second = make_speech(speaker="李四", organization="乙学会", position="理事长")
    assert first.speaker == second.speaker
    assert Person.objects.filter(name="李四").count() == 1
    assert {s.position for s in first.speaker.speeches.all()} == {"秘书长", "理事长"}


def test_str_and_urls(seed):
    assert str(seed) == "发展新质生产力与轴承产业新机遇"
    assert seed.get_absolute_url() == f"/speeches/{seed.pk}/"
    assert seed.paragraphs.first().get_absolute_url() == f"/speeches/{seed.pk}/#p1"
    assert seed.event.get_absolute_url() == f"/events/{seed.event.pk}/"
    assert str(seed.speaker) == "周宇"


def test_deleting_a_speech_removes_its_paragraphs_only(seed):
    speaker = seed.speaker
    seed.delete()
    assert not Paragraph.objects.exists()
    assert Person.objects.filter(pk=speaker.pk).exists()


@pytest.mark.parametrize("route", ["speech", "person", "organization", "event"])
def test_record_urls_are_reverses(route):
    name = f"speeches:{route}"
    assert record_url(name, 42) == reverse(name, args=[42]) == f"/{route_path(route)}/42/"
    set_script_prefix("/archive/")  # served under a sub-path
    try:
        assert record_url(name, 7) == reverse(name, args=[7]) == f"/archive/{route_path(route)}/7/"
    finally:
        set_script_prefix("/")


def route_path(route):
    return {"speech": "speeches", "person": "people"}.get(route, f"{route}s")
