"""Term trends and the concordance (上下文) on small addresses, checked against counts computed
here from their texts: what the pages, the API and the CSV say, and what they do with hostile
input."""

import csv
import datetime
import io
import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from search import research
from search.engine import codec, counting, runs, store
from search.engine.analysis import fold
from search.engine.cache import cache
from search.queue import drain
from search.service import backend
from speeches.models import Paragraph, Person, Speech, SpeechStatus
from speeches.tests.factories import make_speech

TRENDS, TRENDS_API = reverse("search:trends"), reverse("search:trends_api")
KWIC, KWIC_API = reverse("search:concordance"), reverse("search:concordance_api")
TERMS = ("新质生产力", "高质量发展")


@pytest.fixture
def addresses(search_index):
    """Four published addresses over three years and a draft; the term in the title, in
    traditional characters, twice in a paragraph, and not at all."""
    made = {
        "a": make_speech(
            title="新质生产力与高质量发展",
            speaker="甲",
            organization="某协会",
            event="某峰会",
            date=datetime.date(2023, 3, 1),
            paragraphs=("发展新质生产力。", "新質生產力是高质量发展的着力点，新质生产力！"),
        ),
        "b": make_speech(
            title="工作报告",
            speaker="乙",
            date=datetime.date(2024, 3, 5),
            paragraphs=("推动高质量发展。", "高质量发展，高质量发展。", "新质生产力"),
        ),
        "c": make_speech(
            title="没有这个词",
            speaker="乙",
            date=datetime.date(2022, 1, 1),
            paragraphs=("今年的工作。",),
        ),
        "d": make_speech(
            title="致辞",
            speaker=None,
            date=datetime.date(2024, 11, 1),
            paragraphs=("以新质生产力引领高质量发展，" + "继续努力。" * 20,),
        ),
        "draft": make_speech(
            title="草稿",
            speaker="甲",
            date=datetime.date(2024, 1, 1),
            status=SpeechStatus.DRAFT,
            paragraphs=("新质生产力新质生产力新质生产力",),
        ),
    }
    drain()
    return made


def expected_years(term, **only):
    """{year: (occurrences, addresses, characters)} counted here from the published bodies."""
    found = {}
    for speech in Speech.objects.published().filter(**only):
        bodies = [fold(p.text) for p in speech.paragraphs.all()]
        count, chars = sum(b.count(fold(term)) for b in bodies), sum(len(b) for b in bodies)
        old = found.get(speech.date.year, (0, 0, 0))
        found[speech.date.year] = (old[0] + count, old[1] + bool(count), old[2] + chars)
    return dict(sorted(found.items()))


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response


def text(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))


# -- trends -------------------------------------------------------------------------------------


def test_trends_count_each_term_by_year_in_the_body_of_published_addresses(addresses):
    answer = get(Client(), TRENDS_API, q=",".join(TERMS)).json()
    assert [t["term"] for t in answer["terms"]] == list(TERMS)
    for term, trend in zip(TERMS, answer["terms"], strict=True):
        expected = expected_years(term)
        years = {y["year"]: (y["count"], y["addresses"], y["chars"]) for y in trend["years"]}
        assert years == expected
        assert [y["year"] for y in trend["years"]] == [2022, 2023, 2024]
        assert trend["total"] == sum(c for c, _, _ in expected.values())
        for y in trend["years"]:
            assert y["per_10k"] == round(y["count"] * 10_000 / y["chars"], 2)
    # The draft's three, and the title of "a", are not counted.
    assert answer["terms"][0]["total"] == 5


@pytest.mark.parametrize("term", ["发展", "协会", "量发", "甲乙", "质", "甲", "新质生"])
def test_short_terms_counted_by_their_postings_leave_out_titles_and_names(addresses, term):
    """Two different characters are counted from their bigram's postings, one character from
    its postings in `chars`; both count the title and the names too (发展 is in a title, 协会
    an organization, 甲 a speaker): those are taken away. Three characters are counted in
    the bodies, for comparison."""
    (trend,) = get(Client(), TRENDS_API, q=term).json()["terms"]
    years = {y["year"]: (y["count"], y["addresses"], y["chars"]) for y in trend["years"]}
    assert years == expected_years(term)


@pytest.mark.parametrize("term", ["质生产", "新质生产力", "量发展"])
@pytest.mark.parametrize("placed", [True, False], ids=["runs files", "texts"])
def test_a_run_is_counted_in_the_texts_read_to_confirm_it_none_read_twice(
    addresses, monkeypatch, term, placed
):
    """Three characters or more: where the segments have their runs files (search.engine.runs)
    no text is read to find or count the run. Without them, the candidates' texts that
    search reads to confirm the run are counted as they are read (a title holding it counts
    none), and no text is read again to count it."""
    if not placed:
        remove_runs_files()
    read, spans, row = [], codec.VarBytesRows.spans, codec.VarBytesRows.__getitem__

    def spans_read(self, docnums, **options):
        for found in spans(self, docnums, **options):
            read.append((id(self), found[0]))
            yield found

    monkeypatch.setattr(codec.VarBytesRows, "spans", spans_read)
    monkeypatch.setattr(
        codec.VarBytesRows,
        "__getitem__",
        lambda self, d: read.append((id(self), d)) or row(self, d),
    )
    cache.clear()
    (trend,) = research.trends(query=term).terms
    assert {p.year: (p.count, p.addresses, p.chars) for p in trend.years} == expected_years(term)
    assert trend.total > 0 and len(read) == len(set(read))
    assert bool(read) is not placed


@pytest.mark.parametrize("sort", ["date", "oldest", "address", "left", "right"])
def test_concordance_lines_are_those_of_the_texts_with_or_without_runs_files(addresses, sort):
    """Where the runs files place a run, its lines (paragraph, place in it) are worked out
    from the places, only the text before each decoded; every line is the one found by
    searching each body's paragraphs, in every order."""

    def lines(term):
        cache.clear()
        found = research.concordance(query=term, sort=sort, page_size=500).lines
        return [
            (line.speech.pk, line.paragraph, line.left, line.match, line.right) for line in found
        ]

    terms = ("新质生产力", "质量发", "继续努力", "努力。继续", "生产力是高")
    placed = [lines(term) for term in terms]
    remove_runs_files()
    assert [lines(term) for term in terms] == placed
    assert [len(found) for found in placed] == [5, 5, 20, 19, 1]
    assert {line[1] for line in placed[0]} == {1, 2, 3}  # a line in the third paragraph


def remove_runs_files():
    """The index as one written before runs files: every segment's texts are read instead."""
    removed = list(Path(backend().path).glob(f"*{runs.SUFFIX}"))
    assert removed
    for path in removed:
        path.unlink()
    cache.clear()


def test_body_counts_say_whether_a_text_holds_a_run_and_count_it_in_the_body(addresses):
    """BodyCounts, which trends and the concordance hand to search, answers from one scan of
    each text what looking for the run would (in the body, or only in a title or a name) and
    how often the body holds it."""
    searcher = backend().searcher()
    texts, seen, most = store.document_texts(searcher, store.FOLDED), set(), 0
    for term in ("新质生产力", "某协会", "没有这个", "继续努力", "龘龘龘"):
        needle = fold(term).encode("utf-8")
        counts = counting.BodyCounts(searcher, needle)
        for speech in Speech.objects.published():
            doc = searcher.document_number(django_id=str(speech.pk))
            raw = texts.raw(doc)
            assert counts(doc, raw) is (needle in raw)
            assert counts[doc] == sum(
                fold(p.text).count(fold(term)) for p in speech.paragraphs.all()
            )
            seen.add("no" if needle not in raw else "body" if counts[doc] else "title, names")
            most = max(most, counts[doc])
    assert seen == {"body", "title, names", "no"} and most > 1


@pytest.mark.parametrize("term", ["质", "甲", "展"])
def test_one_character_is_counted_in_the_text_where_the_index_kept_it_once(
    addresses, monkeypatch, term
):
    """From the postings, no body read; where the documents were indexed before `chars`
    counted occurrences (no CHARS_COUNTED column), from their text, with the same result."""
    searcher, expected = backend().searcher(), expected_years(term)

    def unread(*args):
        raise AssertionError("a body was read")

    cache.clear()
    with monkeypatch.context() as patched:
        patched.setattr(counting, "_plain_counts", unread)
        (trend,) = research.trends(query=term).terms
    assert {p.year: (p.count, p.addresses, p.chars) for p in trend.years} == expected
    cache.clear()
    written = counting.column_numbers
    monkeypatch.setattr(
        counting,
        "column_numbers",
        lambda s, name: (
            np.full(s.doc_count_all(), -1) if name == "chars_counted" else written(s, name)
        ),
    )
    assert not counting.chars_counted(searcher).any()
    read, plain_counts = [], counting._plain_counts
    monkeypatch.setattr(
        counting,
        "_plain_counts",
        lambda s, docs, needle: read.extend(docs) or plain_counts(s, docs, needle),
    )
    (trend,) = research.trends(query=term).terms
    assert {p.year: (p.count, p.addresses, p.chars) for p in trend.years} == expected
    assert len(read) >= max(1, sum(holding for _, holding, _ in expected.values()))
    cache.clear()


def test_who_uses_it_most_ranks_speakers_by_occurrences_per_10k_characters(addresses):
    trend = get(Client(), TRENDS_API, q="新质生产力").json()["terms"][0]
    chars = {"甲": len("发展新质生产力。新质生产力是高质量发展的着力点，新质生产力！")}
    chars["乙"] = len("推动高质量发展。高质量发展，高质量发展。新质生产力今年的工作。")
    assert [(s["name"], s["count"], s["chars"]) for s in trend["speakers"]] == [
        ("甲", 3, chars["甲"]),
        ("乙", 1, chars["乙"]),
    ]
    assert trend["speakers"][0]["per_10k"] == round(3 * 10_000 / chars["甲"], 2)
    assert trend["speakers"][0]["id"] == Person.objects.get(name="甲").pk


def test_filters_narrow_what_is_counted_and_what_it_is_divided_by(addresses):
    client = Client()
    typed = get(client, TRENDS_API, q="新质生产力, 高质量发展 speaker:乙").json()
    clicked = get(
        client, TRENDS_API, q="新质生产力,高质量发展", speaker=Person.objects.get(name="乙").pk
    ).json()
    for answer in (typed, clicked):
        for term, trend in zip(TERMS, answer["terms"], strict=True):
            years = {y["year"]: (y["count"], y["addresses"], y["chars"]) for y in trend["years"]}
            assert years == expected_years(term, speaker__name="乙")
    assert typed["filters"] == "speaker:乙"
    assert typed["terms"][0]["query"] == "新质生产力 speaker:乙"


def test_a_term_matching_nothing_gives_an_empty_chart_not_an_error(addresses):
    html = get(Client(), TRENDS, q="没有的词,新质生产力 speaker:无此人").content.decode()
    assert "<svg" in html and "<table" in html
    assert "没有讲者用过这个词" in html
    answer = get(Client(), TRENDS_API, q="没有的词").json()
    assert answer["terms"][0]["total"] == 0
    assert {y["count"] for y in answer["terms"][0]["years"]} == {0}


def test_at_most_five_terms_and_the_rest_named(addresses):
    answer = get(Client(), TRENDS_API, q="一,二,三,四,五,六,七").json()
    assert [t["term"] for t in answer["terms"]] == ["一", "二", "三", "四", "五"]
    assert "六、七" in answer["notice"]


def test_the_chart_has_title_axes_legend_table_and_points_linking_to_the_search(addresses):
    client = Client()
    html = get(client, TRENDS, q=",".join(TERMS)).content.decode()
    svg = re.search(r"<svg.*?</svg>", html, re.S).group()
    assert re.search(r"<title[^>]*>每万字出现次数：新质生产力、高质量发展</title>", svg)
    assert ">年份</text>" in svg and ">每万字出现次数</text>" in svg
    assert all(f">{term}</text>" in svg for term in TERMS)  # the legend
    table = re.search(r'<table class="trend-table">.*?</table>', html, re.S).group()
    assert "2023</th><td>3 / 1 / " in table.replace("\n", "")
    points = [unescape(h) for h in re.findall(r'<a href="([^"]+)"', svg)]
    assert points, "no point links"
    for url in points:
        params = parse_qs(urlsplit(url).query)
        year, query = params["year"][0], params["q"][0]
        term = next(t for t in TERMS if t in query)
        count = expected_years(term)[int(year)]
        results = get(client, url).content.decode()
        assert f"共 {count[1]} 篇" in text(results)


def test_trends_csv_is_utf8_with_a_bom_and_the_json_rows(addresses):
    response = get(Client(), TRENDS_API, q=",".join(TERMS), format="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == ["term", "year", "count", "addresses", "chars", "per_10k"]
    answer = get(Client(), TRENDS_API, q=",".join(TERMS)).json()
    expected = [
        [t["term"], str(y["year"]), str(y["count"]), str(y["addresses"]), str(y["chars"])]
        + [str(y["per_10k"])]
        for t in answer["terms"]
        for y in t["years"]
    ]
    assert rows[1:] == expected


def test_counts_come_from_the_index_and_follow_its_changes(addresses):
    with CaptureQueriesContext(connection) as queries:
        research.trends(query="新质生产力")
    assert not [q for q in queries if Paragraph._meta.db_table in q["sql"]]
    make_speech(
        title="新的", speaker="丙", date=datetime.date(2022, 6, 1), paragraphs=("新质生产力",)
    )
    drain()
    years = {p.year: p.count for p in research.trends(query="新质生产力").terms[0].years}
    assert years[2022] == 1


# -- the concordance ----------------------------------------------------------------------------


def all_lines(client, **params):
    return get(client, KWIC_API, **params).json()


def test_body_lengths_are_a_column_and_counted_in_the_text_where_an_index_lacks_it(
    addresses, monkeypatch
):
    searcher = backend().searcher()
    expected = {
        searcher.document_number(django_id=str(speech.pk)): sum(
            len(fold(p.text)) for p in speech.paragraphs.all()
        )
        for speech in Speech.objects.published()
    }
    written = counting.body_lengths(searcher)
    assert {doc: int(written[doc]) for doc in expected} == expected
    cache.clear()
    monkeypatch.setattr(counting, "column_numbers", lambda s, name: np.full(s.doc_count_all(), -1))
    counted = counting.body_lengths(searcher)
    assert {doc: int(counted[doc]) for doc in expected} == expected
    cache.clear()


def test_a_body_starts_after_the_head_column_as_after_the_names_before_it(addresses, monkeypatch):
    """The body is found after the HEAD column's bytes; an index written without that column
    counts the parts before it: both give the paragraphs the database holds, and an address
    with a speaker, organization and event has more of those parts than one without."""
    searcher = backend().searcher()
    expected = {
        searcher.document_number(django_id=str(speech.pk)): counting.SEPARATOR.join(
            fold(p.text) for p in speech.paragraphs.all()
        )
        for speech in Speech.objects.published()
    }
    from_head = {doc: counting.body_of(searcher, doc) for doc in expected}
    cache.clear()
    monkeypatch.setattr(counting, "heads", lambda s: ())
    from_names = {doc: counting.body_of(searcher, doc) for doc in expected}
    assert from_head == from_names == expected
    assert len(set(counting.names_before_body(searcher)[list(expected)].tolist())) > 1
    cache.clear()


def test_the_concordance_lists_every_occurrence_in_the_texts_own_characters(addresses):
    answer = all_lines(Client(), q="新质生产力")
    assert answer["count"] == 5 == len(answer["results"])
    for line in answer["results"]:
        paragraph = Paragraph.objects.get(speech_id=line["speech_id"], position=line["paragraph"])
        assert line["left"] + line["match"] + line["right"] in paragraph.text
        assert fold(line["match"]) == "新质生产力"
        assert len(line["left"]) <= 30 and len(line["right"]) <= 30
        assert line["url"].endswith(f"/speeches/{line['speech_id']}/#p{line['paragraph']}")
    assert "新質生產力" in [line["match"] for line in answer["results"]]
    # newest first, then in text order
    dates = [line["date"] for line in answer["results"]]
    assert dates == sorted(dates, reverse=True)


def test_the_concordance_sorts_as_antconc_does(addresses):
    client = Client()

    def lines(sort):
        return all_lines(client, q="高质量发展", sort=sort)["results"]

    left = [fold(line["left"])[::-1] for line in lines("left")]
    assert left == sorted(left)
    right = [fold(line["right"]) for line in lines("right")]
    assert right == sorted(right)
    oldest = [line["date"] for line in lines("oldest")]
    assert oldest == sorted(oldest)
    titles = [fold(line["title"]) for line in lines("address")]
    assert titles == sorted(titles)
    assert all_lines(client, q="高质量发展", sort="<script>")["sort"] == "date"


def test_the_concordance_is_paginated_within_the_result_window(search_index, settings):
    settings.ARCHIVE_MAX_RESULTS = 100
    make_speech(paragraphs=[f"第{n}处轴承。" for n in range(120)])
    drain()
    client = Client()
    first = all_lines(client, q="轴承")
    assert first["count"] == 120 and len(first["results"]) == 50 and first["num_pages"] == 2
    second = all_lines(client, q="轴承", page=2)
    assert [r["paragraph"] for r in second["results"]] == list(range(51, 101))
    assert all_lines(client, q="轴承", page=99)["page"] == 2
    html = get(client, KWIC, q="轴承").content.decode()
    assert "共 120 处" in text(html) and "第 1 / 2 页" in text(html)
    rows = list(
        csv.reader(io.StringIO(get(client, KWIC_API, q="轴承", format="csv").content.decode()[1:]))
    )
    assert len(rows) == 121  # every line, up to ARCHIVE_MAX_RESULTS × 10


def test_the_concordance_page_shows_left_match_right_and_links_the_paragraph(addresses):
    html = get(Client(), KWIC, q="新质生产力", sort="oldest").content.decode()
    rows = re.findall(
        r"<tr><td class=\"kwic-left\"><span>(.*?)</span></td>.*?<a href=\"([^\"]+)\">(.*?)</a>",
        html,
        re.S,
    )
    assert len(rows) == 5
    left, url, match = rows[0]
    a = addresses["a"]
    assert (left, url, match) == ("发展", f"{a.get_absolute_url()}#p1", "新质生产力")
    assert "甲" in html and "2023年3月1日" in html


def test_a_paragraph_edited_since_indexing_shows_its_text_as_it_is_now(addresses):
    b = addresses["b"]
    Paragraph.objects.filter(speech=b, position=3).update(text="我们讲新质生产力")
    line = next(r for r in all_lines(Client(), q="新质生产力")["results"] if r["speech_id"] == b.pk)
    assert (line["left"], line["match"]) == ("我们讲", "新质生产力")


def test_search_results_link_to_the_concordance(addresses):
    html = get(Client(), reverse("search:search"), q="新质生产力", year="2024").content.decode()
    link = unescape(re.search(r'<a class="kwic-link" href="([^"]+)">查看上下文</a>', html).group(1))
    params = parse_qs(urlsplit(link).query)
    assert (
        urlsplit(link).path == KWIC and params["q"] == ["新质生产力"] and params["year"] == ["2024"]
    )
    assert all_lines(Client(), q="新质生产力", year="2024")["count"] == 2


# -- hostile input, escaping and limits ---------------------------------------------------------

HOSTILE = [
    {},
    {"q": ""},
    {"q": "\x00\x01"},
    {"q": '"'},
    {"q": "-"},
    {"q": "speaker:"},
    {"q": ",,,,,"},
    {"q": "新" * 5000},
    {"q": "轴承", "page": "-1"},
    {"q": "轴承", "page": "9" * 40},
    {"q": "轴承", "sort": "'; DROP TABLE"},
    {"q": "轴承", "year": "abc", "speaker": "1 OR 1=1", "kind": "<x>"},
    {"q": "轴承", "format": "xml"},
    {"q": "year:9999-0000 -轴承 OR"},
    {"q": "轴承~2^3 text:x"},
]


@pytest.mark.parametrize("url", [TRENDS, TRENDS_API, KWIC, KWIC_API])
@pytest.mark.parametrize("params", HOSTILE)
def test_hostile_input_gets_a_page_or_json_never_an_error(addresses, url, params):
    response = Client().get(url, params)
    assert response.status_code == 200
    if url.startswith("/api/") and params.get("format") != "csv":
        response.json()
    csv_response = Client().get(url, {**params, "format": "csv"}) if "/api/" in url else None
    assert csv_response is None or csv_response.status_code == 200


SCRIPT = '<script>alert("x")</script>'


def test_text_is_escaped_on_the_pages_and_neutralised_in_csv(search_index):
    make_speech(
        title=f'=HYPERLINK("http://evil"){SCRIPT}',
        speaker=f"@{SCRIPT}",
        paragraphs=("=1+2 轴承-cmd", f"{SCRIPT}轴承<img src=x onerror=alert(1)>"),
    )
    drain()
    client = Client()
    for url, params in ((KWIC, {"q": "轴承"}), (TRENDS, {"q": f"轴承,{SCRIPT}"})):
        html = get(client, url, **params).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in get(client, TRENDS, q=f"轴承,{SCRIPT}").content.decode()
    rows = list(
        csv.reader(io.StringIO(get(client, KWIC_API, q="轴承", format="csv").content.decode()[1:]))
    )
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["title"].startswith("'=HYPERLINK")
    assert line["speaker"].startswith("'@")
    assert (line["left"], line["match"], line["right"]) == ("'=1+2 ", "轴承", "'-cmd")
    assert rows[2][rows[0].index("right")].startswith("<img")
    trends = get(client, TRENDS_API, q="-轴承,=1+2", format="csv").content.decode()
    terms = [row[0] for row in csv.reader(io.StringIO(trends[1:]))][1:]
    assert set(terms) == {"'-轴承", "'=1+2"}


@pytest.mark.parametrize(
    "url,params",
    [(TRENDS, {"q": "轴承"}), (KWIC, {"q": "轴承"}), (KWIC_API, {"q": "轴承", "format": "csv"})],
)
def test_research_pages_and_exports_are_rate_limited_like_search(
    search_index, settings, url, params
):
    settings.ARCHIVE_SEARCH_RATE = "2/60"
    client = Client()
    assert [client.get(url, params).status_code for _ in range(3)] == [200, 200, 429]
