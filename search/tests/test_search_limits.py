"""What a search may cost and show: the per-client rate, the query length, the result window, and
never a draft."""

import datetime

import pytest
from django.test import Client

from search.engine.query.syntax import MAX_QUERY_CHARS, clean
from search.queue import drain
from speeches import services
from speeches.models import SpeechStatus
from speeches.tests.factories import make_speech


@pytest.fixture
def bearings(seed):
    """Four published addresses about 轴承 (the seed and three more), indexed."""
    for day in (1, 2, 3):
        make_speech(
            title=f"轴承专题讲话{day}", date=datetime.date(2023, 1, day), paragraphs=["谈轴承。"]
        )
    drain()
    return seed


def test_search_past_the_rate_gets_a_chinese_429_page(seed, settings):
    settings.ARCHIVE_SEARCH_RATE = "2/60"
    client = Client()
    assert client.get("/search/", {"q": "轴承"}).status_code == 200
    assert client.get("/api/v1/search", {"q": "轴承"}).status_code == 200
    # The page and its JSON twin share one budget per client.
    page = client.get("/search/", {"q": "轴承"})
    assert page.status_code == 429
    seconds = int(page["Retry-After"])
    assert 1 <= seconds <= 60
    html = page.content.decode()
    assert f"请求过于频繁，请 {seconds} 秒后再试。" in html and "<h1>请求过于频繁</h1>" in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    api = client.get("/api/v1/search", {"q": "轴承"})
    assert api.status_code == 429 and "请求过于频繁" in api.json()["detail"]
    # Reading an address is not searching.
    assert client.get(seed.get_absolute_url()).status_code == 200
    assert Client(REMOTE_ADDR="10.3.0.2").get("/search/", {"q": "轴承"}).status_code == 200


def test_a_long_query_is_cut_with_a_notice(seed):
    q = "轴承" + "产" * 5000
    html = Client().get("/search/", {"q": q}).content.decode()
    assert "检索词过长，只用了前 200 个字。" in html
    data = Client().get("/api/v1/search", {"q": q}).json()
    assert data["query_truncated"] is True and len(data["query"]) == MAX_QUERY_CHARS
    assert data["notice"] == "检索词过长，只用了前 200 个字。"
    short = Client().get("/api/v1/search", {"q": "轴承"}).json()
    assert short["query_truncated"] is False and short["notice"] == ""


def test_only_a_bounded_prefix_of_the_query_is_read():
    # 500 control characters would clean to nothing; the word after them is never reached.
    text, truncated = clean("\x00" * 500 + "轴承")
    assert text == "" and truncated
    assert clean("\x00" * 10 + "轴承") == ("轴承", False)


def test_search_pages_stop_at_the_result_window(bearings, settings):
    settings.ARCHIVE_PAGE_SIZE = 1
    settings.ARCHIVE_MAX_RESULTS = 2
    client = Client()
    data = client.get("/api/v1/search", {"q": "轴承", "page": "999999"}).json()
    # Four matches would make four pages; the window allows two, and page 2 is served.
    assert data["count"] == 4 and data["page"] == 2 and data["num_pages"] == 2
    assert len(data["results"]) == 1
    html = client.get("/search/", {"q": "轴承", "page": "999999"}).content.decode()
    assert "第 2 / 2 页" in html and 'rel="next"' not in html and "共 4 篇" in html
    assert "只列出前 2 篇" in html
    first = client.get("/search/", {"q": "轴承"}).content.decode()
    assert "只列出前" not in first
    assert 'rel="next" href="?q=%E8%BD%B4%E6%89%BF&amp;page=2"' in first


def test_search_never_shows_a_draft(seed):
    draft = make_speech(
        title="未公开的轴承讲话",
        speaker="内部讲者甲",
        date=datetime.date(1999, 3, 4),
        status=SpeechStatus.DRAFT,
        paragraphs=["只在草稿里出现的轴承句子。"],
    )
    drain()
    client = Client()
    for q in ("只在草稿里出现", "轴承", "speaker:内部讲者甲", "year:1999"):
        text = client.get("/search/", {"q": q}).content.decode()
        for secret in (draft.title, "草稿里出现的轴承句子", f"/speeches/{draft.pk}/"):
            assert secret not in text, (q, secret)
        data = client.get("/api/v1/search", {"q": q}).json()
        assert draft.pk not in [r["id"] for r in data["results"]], q
        facet_labels = {o["label"] for options in data["facets"].values() for o in options}
        assert not facet_labels & {"内部讲者甲", "1999"}, q
    services.publish(speech=draft)
    drain()
    assert draft.title in client.get("/search/", {"q": "只在草稿里出现"}).content.decode()
