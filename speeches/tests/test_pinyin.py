"""Speakers, organizations and events found by their pinyin: zhouyu, zhou yu, zy → 周宇."""

import importlib

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from speeches import pinyin, selectors
from speeches.models import Event, Organization, Person, SpeechStatus

from .factories import make_speech

PINYIN = "0006_pinyin_of_names"


def test_forms_of_a_name():
    assert pinyin.forms("周宇", surname=True) == "zhouyu zy"
    # A surname read otherwise than the word: 单 is shan as a surname, 曾 zeng.
    assert "shanjixiang sjx" in pinyin.forms("单霁翔", surname=True)
    assert "zengpeiyan" in pinyin.forms("曾培炎", surname=True)
    # ü: pypinyin writes lv; readers type lu as often.
    assert set(pinyin.forms("吕秀莲", surname=True).split()) >= {"lvxiulian", "luxiulian", "lxl"}
    # Each name a record goes by; digits and spaces left out.
    assert pinyin.forms("2024 上海国际轴承峰会", "上海国际轴承峰会") == (
        "shanghaiguojizhouchengfenghui shgjzcfh"
    )
    assert pinyin.forms("中国轴承工业协会", "轴承协会").split() == [
        "zhongguozhouchenggongyexiehui",
        "zgzcgyxh",
        "zhouchengxiehui",
        "zcxh",
    ]


@pytest.mark.parametrize(
    ("text", "letters"),
    [("zhouyu", "zhouyu"), ("zhou yu", "zhouyu"), (" Zhou'Yu ", "zhouyu"), ("ZY", "zy")],
)
def test_what_a_reader_types_as_pinyin(text, letters):
    assert pinyin.query(text) == letters


@pytest.mark.parametrize("text", ["周宇", "z", "2024", "zhou2024", "", "   ", "zhou<yu>"])
def test_what_cannot_be_pinyin(text):
    assert pinyin.query(text) == ""


def test_every_save_stores_the_pinyin_fixtures_too(seed):
    """The fixture is loaded raw (no save()): the pinyin is stored all the same."""
    assert seed.speaker.pinyin == "zhouyu zy"
    assert "zgzcgyxh" in seed.organization.pinyin.split()
    person = seed.speaker
    person.name = "周雨"
    person.save()
    person.refresh_from_db()
    assert person.pinyin == "zhouyu zy"  # 雨 is yu too
    person.name = "王宇"
    person.save()
    assert Person.objects.get(pk=person.pk).pinyin.startswith("wangyu wy")


@pytest.mark.parametrize("text", ["zhouyu", "zhou yu", "zy", "Zhou Yu", "zhou", "zhouy"])
def test_names_by_pinyin_find_the_speaker(seed, text):
    assert seed.speaker in selectors.names_by_pinyin(text=text)


def test_names_by_pinyin_find_organizations_and_events(seed):
    assert selectors.names_by_pinyin(text="zgzcgyxh") == [seed.organization]
    assert selectors.names_by_pinyin(text="zhouchengxiehui") == [seed.organization]
    assert selectors.names_by_pinyin(text="shanghai guoji") == [seed.event]
    assert selectors.names_by_pinyin(text="shgjzcfh") == [seed.event]


def test_names_by_pinyin_whole_names_first_then_people_and_shorter_names(seed):
    others = [
        make_speech(speaker="周宇航", organization="周宇科技公司").speaker,
        make_speech(speaker="邹越").speaker,  # zy too
    ]
    found = selectors.names_by_pinyin(text="zhouyu")
    assert found[0] == seed.speaker
    assert found[1:] == [others[0], Organization.objects.get(name="周宇科技公司")]
    assert selectors.names_by_pinyin(text="zy")[:2] == [seed.speaker, others[1]]
    assert len(selectors.names_by_pinyin(text="z", limit=5)) == 0
    assert len(selectors.names_by_pinyin(text="zhou", limit=2)) == 2


def test_names_by_pinyin_never_show_what_only_drafts_name(db):
    make_speech(speaker="周宇", event="草稿会议", status=SpeechStatus.DRAFT)
    assert selectors.names_by_pinyin(text="zhouyu") == []
    assert selectors.names_by_pinyin(text="caogao") == []
    assert Event.objects.filter(name="草稿会议").exists()


@pytest.mark.parametrize("text", ["zy", "zhou yu", "周"])
def test_people_list_filters_by_name_or_pinyin(client, seed, text):
    other = make_speech(speaker="李四").speaker
    html = client.get(reverse("speeches:people"), {"q": text}).content.decode()
    assert seed.speaker.get_absolute_url() in html
    assert other.get_absolute_url() not in html
    assert f'value="{text}"' in html


def test_people_list_says_when_nobody_matches(client, seed):
    html = client.get(reverse("speeches:people"), {"q": "wangwu"}).content.decode()
    assert "没有姓名或拼音与“wangwu”相符的讲者。" in html
    assert seed.speaker.get_absolute_url() not in html
    everyone = client.get(reverse("speeches:people")).content.decode()
    assert seed.speaker.get_absolute_url() in everyone


@pytest.mark.parametrize("term", ["zhouyu", "zhou yu", "zy"])
def test_admin_autocomplete_and_search_find_by_pinyin(seed, boss, term):
    make_speech(speaker="李四")
    found = boss.get(
        "/admin/autocomplete/",
        {"app_label": "speeches", "model_name": "speech", "field_name": "speaker", "term": term},
    ).json()
    assert [r["text"] for r in found["results"]] == ["周宇"]
    listed = boss.get(reverse("admin:speeches_person_changelist"), {"q": term})
    assert "周宇" in listed.content.decode() and "李四" not in listed.content.decode()
    organizations = boss.get(
        "/admin/autocomplete/",
        {"app_label": "speeches", "model_name": "speech", "field_name": "organization",
         "term": "zgzc"},
    ).json()  # fmt: skip
    assert [r["text"] for r in organizations["results"]] == ["中国轴承工业协会"]


@pytest.fixture
def before_pinyin(transactional_db):
    """The archive just before PINYIN; migrated to the newest state afterwards."""
    module = importlib.import_module(f"speeches.migrations.{PINYIN}")
    previous = next(name for app, name in module.Migration.dependencies if app == "speeches")
    call_command("migrate", "speeches", previous, verbosity=0)
    yield MigrationExecutor(connection).loader.project_state(("speeches", previous)).apps
    # Every app: going back also unapplied other apps' migrations that depend on these.
    call_command("migrate", verbosity=0)


def test_migration_stores_the_pinyin_of_records_stored_before(before_pinyin):
    old = before_pinyin
    old.get_model("speeches", "Person").objects.create(name="周宇")
    old.get_model("speeches", "Organization").objects.create(name="中国轴承工业协会")
    old.get_model("speeches", "Event").objects.create(name="2024 上海国际轴承峰会")
    call_command("migrate", "speeches", PINYIN, verbosity=0)
    assert Person.objects.get(name="周宇").pinyin == "zhouyu zy"
    assert Organization.objects.get().pinyin == "zhongguozhouchenggongyexiehui zgzcgyxh"
    assert Event.objects.get().pinyin == "shanghaiguojizhouchengfenghui shgjzcfh"
