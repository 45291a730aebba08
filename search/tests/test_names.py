"""Name filters resolve through the database: one indexed query on the names' grams."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search import names, service
from search.engine.query import parse
from search.models import NameGram
from speeches.models import Event, Organization, Person


@pytest.fixture
def named(db):
    return {
        "zhou": Person.objects.create(name="周新宇"),
        "zhang": Person.objects.create(name="張三"),  # traditional: folds to 张三
        "li": Person.objects.create(name="LI Qiang"),
        "assoc": Organization.objects.create(name="中国轴承工业协会", short_name="轴承协会"),
        # Holds every pair of 中国轴承 (中国, 国轴, 轴承) but never the four together.
        "decoy": Organization.objects.create(name="国轴承与中国轴研所"),
        "summit": Event.objects.create(name="2024上海国际轴承峰会", series="轴承峰会"),
    }


def ids(kind, wanted):
    return names.ids_named(kind=kind, wanted=wanted)


def test_a_name_is_found_by_any_part_of_it_in_either_script(named):
    assert ids("speaker", "新宇") == [named["zhou"].pk]
    assert ids("speaker", "周") == [named["zhou"].pk]
    assert ids("speaker", "张三") == ids("speaker", "張三") == [named["zhang"].pk]
    assert ids("speaker", "李四") == []


def test_every_name_field_counts_and_every_word_must_be_in_one_of_them(named):
    assert ids("organization", "轴承协会") == [named["assoc"].pk]
    assert ids("organization", "协会") == [named["assoc"].pk]
    assert ids("organization", "轴承协会工业") == []  # no one name holds it
    assert ids("event", "轴承峰会") == [named["summit"].pk]
    # Latin words keep their spaces: each must be in the name, in any order.
    assert ids("speaker", "qiang li") == ids("speaker", "Ｌｉ") == [named["li"].pk]
    assert ids("speaker", "qiang wang") == []


def test_pairs_found_apart_are_not_a_match(named):
    assert ids("organization", "中国轴承") == [named["assoc"].pk]
    decoy = NameGram.objects.filter(object_id=named["decoy"].pk, kind="organization")
    assert {"中国", "国轴", "轴承"} <= set(decoy.values_list("gram", flat=True))


def test_one_query_whatever_the_filter(named):
    for wanted in ("周新宇", "中国轴承 协会", "轴"):
        with CaptureQueriesContext(connection) as queries:
            ids("organization", wanted)
        assert len(queries) == 1, queries.captured_queries


def test_the_query_uses_the_index(named):
    sql, params = (
        NameGram.objects.filter(kind="speaker", gram__in=["新宇", "周新"])
        .values_list("object_id", "folded")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "search_namegram_kind_gram" in plan, plan


def test_renames_and_deletions_follow(named):
    zhou = named["zhou"]
    zhou.name = "周宇"
    zhou.save()
    assert ids("speaker", "新宇") == [] and ids("speaker", "周宇") == [zhou.pk]
    named["summit"].delete()
    assert ids("event", "峰会") == []
    assert not NameGram.objects.filter(kind="event").exists()


def test_index_all_writes_what_the_signals_wrote(named):
    def rows():
        return sorted(NameGram.objects.values_list("kind", "object_id", "folded", "gram"))

    written = rows()
    NameGram.objects.all().delete()
    assert names.index_all() == 6
    assert rows() == written
    assert ("organization", named["assoc"].pk, "轴承协会", "协会") in written


def test_a_filter_naming_nobody_finds_nothing_without_reading_the_index(named):
    parsed = parse("轴承 speaker:李四")
    assert service.query_plan(parsed, service.Filters()) is None
    plan = service.query_plan(parse("轴承 speaker:周"), service.Filters())
    assert plan is not None
