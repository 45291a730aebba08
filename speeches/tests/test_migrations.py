"""Data migrations: what they change in an archive that already holds records."""

import datetime
import importlib

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from speeches.models import Event, Speech

SERIES = "0005_event_series_from_numbered_names"


@pytest.fixture
def before_series(transactional_db):
    """The archive as it was just before SERIES; migrated to the newest state afterwards."""
    module = importlib.import_module(f"speeches.migrations.{SERIES}")
    previous = next(name for app, name in module.Migration.dependencies if app == "speeches")
    call_command("migrate", "speeches", previous, verbosity=0)
    # The models as they were then: today's have columns that later migrations add.
    yield MigrationExecutor(connection).loader.project_state(("speeches", previous)).apps
    # Every app: going back also unapplied other apps' migrations that depend on these.
    call_command("migrate", verbosity=0)


def old_speech(apps, *, event, date=datetime.date(2023, 5, 1)):
    event = apps.get_model("speeches", "Event").objects.create(name=event)
    return apps.get_model("speeches", "Speech").objects.create(
        title="测试讲稿", event=event, date=date, date_precision="day", status="published"
    )


def test_numbered_sessions_get_their_series(before_series):
    old = before_series
    session = old_speech(
        old, event="第七届全国人民代表大会第一次会议", date=datetime.date(1988, 3, 25)
    )
    congress = old_speech(
        old, event="中国共产党第十三次全国代表大会", date=datetime.date(1987, 10, 25)
    )
    named = old_speech(old, event="2024 上海国际轴承峰会")
    Event.objects.filter(pk=named.event_id).update(series="staff's own series")
    plain = old_speech(old, event="某论坛")
    versions = dict(Speech.objects.values_list("pk", "page_version"))
    call_command("migrate", "speeches", SERIES, verbosity=0)
    series = dict(Event.objects.values_list("name", "series"))
    assert series == {
        "第七届全国人民代表大会第一次会议": "全国人民代表大会",
        "中国共产党第十三次全国代表大会": "中国共产党全国代表大会",
        "2024 上海国际轴承峰会": "staff's own series",
        "某论坛": "",
    }
    # Their pages' previous/next links change: the stored ones expire.
    after = dict(Speech.objects.values_list("pk", "page_version"))
    assert after[session.pk] > versions[session.pk] and after[congress.pk] > versions[congress.pk]
    assert after[named.pk] == versions[named.pk] and after[plain.pk] == versions[plain.pk]
