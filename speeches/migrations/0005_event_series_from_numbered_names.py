"""Events imported before their series was read from numbered names (第十四届全国人民代表大会第一次会议,
中国共产党第九次全国代表大会) get it now, so that their addresses link across the series."""

import re

from django.db import migrations
from django.db.models import F

# As speeches.importing.parsing read it when this migration was written; frozen here.
NUMBER = "[一二三四五六七八九十百零〇两\\d]+"
SESSION = re.compile(rf"第{NUMBER}次(?:全体)?会议$")
ORDINAL = re.compile(rf"第{NUMBER}[届次]")
YEAR = re.compile(r"(\d{4})\s*年?\s*")


def series_of(name):
    year = YEAR.match(name)
    rest = name[year.end() :] if year else name
    series = ORDINAL.sub("", SESSION.sub("", rest)).strip()
    return series if series != rest else ""


def fill_series(apps, schema_editor):
    Event = apps.get_model("speeches", "Event")
    Speech = apps.get_model("speeches", "Speech")
    filled = set()
    for event in Event.objects.filter(series=""):
        series = series_of(event.name)
        if series:
            Event.objects.filter(pk=event.pk).update(series=series)
            filled.add(series)
    # Their addresses' previous/next links change: stored pages of the old links expire.
    Speech.objects.filter(event__series__in=filled).update(page_version=F("page_version") + 1)


class Migration(migrations.Migration):
    dependencies = [("speeches", "0004_rendered_card")]

    operations = [migrations.RunPython(fill_series, migrations.RunPython.noop)]
