"""Readers, searchers and staff in a real browser: Playwright driving Debian's headless Chromium.

Every step leaves a screenshot in test-artifacts/<test>/ for a person to look at.
"""

import datetime
import io
import re
from urllib.parse import quote

import pytest
from django.core.management import call_command
from playwright.sync_api import sync_playwright

from conftest import need
from speeches.models import Speech, SpeechKind, SpeechStatus

from .browser_support import (
    AXE_SCRIPT,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    Screenshots,
    axe_violations,
    background,
    sideways_overflow,
)
from .factories import STAFF_PASSWORD, make_speech

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED_TITLE = "发展新质生产力与轴承产业新机遇"
QUERY = "新质生产力"
# Around the seed (2024), so that filters and facets visibly narrow something.
EXTRA_ADDRESSES = [
    {
        "title": "以新质生产力推动轴承行业高质量发展",
        "speaker": "李明",
        "organization": "中国机械工业联合会",
        "event": "2023 中国轴承行业年会",
        "date": datetime.date(2023, 6, 15),
        "kind": SpeechKind.SPEECH,
        "paragraphs": (
            "各位代表：",
            "加快形成新质生产力，是轴承行业高质量发展的必由之路。",
            "我们要在高端轴承领域攻克关键核心技术。",
        ),
    },
    {
        "title": "数字化转型与制造业新动能",
        "speaker": "王芳",
        "date": datetime.date(2023, 9, 1),
        "kind": SpeechKind.KEYNOTE,
        "paragraphs": ("新质生产力的核心是创新。", "数字化转型为制造业注入新动能。"),
    },
    {
        "title": "轴承标准化工作报告",
        "speaker": "李明",
        "date": datetime.date(2022, 3, 10),
        "kind": SpeechKind.WORK_REPORT,
        "paragraphs": ("过去一年，标准化工作稳步推进。", "新修订国家标准十二项。"),
    },
]


@pytest.fixture(scope="module")
def _orm_beside_playwright():
    # Playwright's sync API keeps an asyncio loop running in the test thread from start() to
    # stop(), so Django's async-safety check would refuse every ORM call made here (test data,
    # the flush after each transactional test), although all of them are plain synchronous
    # calls and the live server answers from threads of its own. Setting up the DB before
    # Playwright starts cannot cover the flushes, hence the switch, for this module only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def chromium(chromium_path, _orm_beside_playwright):
    # One browser for every browser test (they all live in this module). Module rather than
    # session scope: the running loop would otherwise stay for the rest of the session and
    # break later tests that use asyncio.run() or async_to_sync().
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(chromium):
    """A fresh context (cookies, storage) per test, made with the options the test needs."""
    contexts = []

    def make(**options):
        context = chromium.new_context(**{"viewport": DESKTOP, "locale": "zh-CN", **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture
def shot(request):
    return Screenshots(request.node.name)


def run_indexer():
    """What the one indexer process does: apply the queued index tasks, then stop."""
    call_command("run_indexer", "--once", stdout=io.StringIO())


@pytest.fixture
def extra_addresses(search_index):
    speeches = [make_speech(**address) for address in EXTRA_ADDRESSES]
    run_indexer()
    return speeches


@pytest.fixture
def archive(extra_addresses):
    call_command("loaddata", "seed", verbosity=0)
    run_indexer()
    return Speech.objects.get(title=SEED_TITLE)


def card_titles(page):
    return page.locator(".speech-card__title a").all_inner_texts()


def result_count(page):
    return page.locator(".result-count").first.inner_text().split()[:3]


def facet(page, title):
    return page.locator(".facet").filter(has=page.get_by_role("heading", name=title))


def facet_counts(page, title):
    return {
        item.locator("a").inner_text(): item.locator(".count").inner_text()
        for item in facet(page, title).locator("li").all()
    }


def target_id(page):
    return page.evaluate("() => document.querySelector(':target')?.id")


def scrolled_to(page, selector):
    """The element starts at the window's top, or as near as the page's end lets it."""
    return page.eval_on_selector(
        selector,
        """el => {
            const top = el.getBoundingClientRect().top;
            const root = document.documentElement;
            const atEnd = window.scrollY + window.innerHeight >= root.scrollHeight - 1;
            return window.scrollY > 0 && (Math.abs(top) < 2 || (atEnd && top > 0 && top < 200));
        }""",
    )


def public_pages(address):
    return {
        "home": "/",
        "list": "/speeches/",
        "address": address.get_absolute_url(),
        "search": f"/search/?q={quote(QUERY)}",
        "404": "/speeches/999999/",
    }


# -- reading ---------------------------------------------------------------------------------


def test_reader_goes_from_home_to_a_marked_paragraph(page, live_server, archive, shot):
    page.goto(live_server.url + "/")
    assert page.title().startswith("首页")
    shot(page, "home")

    page.locator(".speech-card__title").get_by_role("link", name=SEED_TITLE).click()
    page.wait_for_url(f"{live_server.url}/speeches/{archive.pk}/")
    assert page.title() == f"{SEED_TITLE} · 讲稿库"
    assert page.locator("h1").inner_text() == SEED_TITLE
    paragraphs = page.locator(".speech-body .paragraph")
    assert paragraphs.count() == 8
    assert paragraphs.first.inner_text().startswith("各位来宾，各位朋友：")
    assert page.evaluate("() => window.scrollY") == 0
    shot(page, "address")

    page.locator("#p3 .para-link").click()
    page.wait_for_url(re.compile(r"#p3$"))
    assert target_id(page) == "p3"
    assert background(page, "#p3") != background(page, "#p2")
    assert scrolled_to(page, "#p3")
    shot(page, "paragraph-3")


def test_filters_narrow_the_address_list(page, live_server, archive, shot):
    page.goto(live_server.url + "/speeches/")
    assert result_count(page) == ["共", "4", "篇"]
    assert len(card_titles(page)) == 4
    shot(page, "all")

    filters = page.locator("form.filters")
    filters.locator("select[name=year]").select_option("2023")
    filters.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"year=2023"))
    assert result_count(page) == ["共", "2", "篇"]
    assert sorted(card_titles(page)) == sorted(a["title"] for a in EXTRA_ADDRESSES[:2])
    shot(page, "year-2023")

    speaker = filters.locator("select[name=speaker] option", has_text="李明")
    filters.locator("select[name=speaker]").select_option(speaker.get_attribute("value"))
    filters.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"speaker=\d+"))
    assert result_count(page) == ["共", "1", "篇"]
    assert card_titles(page) == [EXTRA_ADDRESSES[0]["title"]]
    shot(page, "year-2023-speaker")


# -- searching -------------------------------------------------------------------------------


def test_search_facet_and_snippet_lead_to_the_paragraph(page, live_server, archive, shot):
    page.goto(live_server.url + "/")
    page.locator("#q-home").fill(QUERY)
    page.locator("#q-home").press("Enter")
    page.wait_for_url(f"{live_server.url}/search/?q={quote(QUERY)}")
    assert result_count(page) == ["共", "3", "篇"]
    assert SEED_TITLE in card_titles(page)
    marks = page.locator(".snippets mark").all_text_contents()  # those behind 另 N 段 too
    assert marks and all(mark and mark in QUERY for mark in marks), marks
    assert facet_counts(page, "年份") == {"2024": "1", "2023": "2"}
    shot(page, "results")

    facet(page, "年份").get_by_role("link", name="2024", exact=True).click()
    page.wait_for_url(re.compile(r"year=2024"))
    assert result_count(page) == ["共", "1", "篇"]
    assert card_titles(page) == [SEED_TITLE]
    assert page.locator(".facet [aria-current=true]").inner_text() == "2024"
    assert facet_counts(page, "年份")["2024"] == "1"
    shot(page, "year-2024")

    snippet = page.locator(".snippets a.snippet-anchor").first
    number = snippet.get_attribute("href").rsplit("#p", 1)[1]
    snippet.click()
    # The address opens at the paragraph with the query marked (?hl=), the paragraph just
    # below the bar of occurrences that stays at the window's top.
    page.wait_for_url(re.compile(rf"/speeches/{archive.pk}/\?hl=[^#]+#p{number}$"))
    assert target_id(page) == f"p{number}"
    assert QUERY in page.locator(f"#p{number} mark").all_inner_texts()
    bar = page.eval_on_selector(".hl-nav", "el => el.getBoundingClientRect().bottom")
    assert bar <= page.eval_on_selector(f"#p{number}", "el => el.getBoundingClientRect().top") < 200
    assert background(page, f"#p{number}") != background(page, "h1")
    shot(page, f"paragraph-{number}")


@pytest.mark.parametrize(
    "query", ["新質生產力", "軸承產業"], ids=["title-phrase", "industry-words"]
)
def test_traditional_characters_find_the_same_address(page, live_server, archive, shot, query):
    page.goto(live_server.url + "/speeches/")
    box = page.locator("header input[name=q]")
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/search/?q={quote(query)}")
    assert SEED_TITLE in card_titles(page)
    assert page.locator(".snippets mark").count() > 0
    shot(page, "results")


# -- uploading -------------------------------------------------------------------------------


def upload(page, live_server, path):
    page.goto(f"{live_server.url}/admin/speeches/speech/import/")
    page.locator("input[name=file]").set_input_files(path)
    page.locator("input[type=submit][value=预览]").click()


def detected(page, label):
    row = page.locator("#detected-fields tbody tr").filter(
        has=page.get_by_role("rowheader", name=label, exact=True)
    )
    return row.locator("td").first.inner_text()


def search_titles(page, live_server):
    page.goto(f"{live_server.url}/search/?q={quote(QUERY)}")
    return card_titles(page)


def test_staff_upload_is_previewed_published_searchable_and_not_duplicated(
    page, live_server, extra_addresses, editor, seed_path, shot
):
    page.goto(f"{live_server.url}/admin/speeches/speech/import/")
    assert "/admin/login/" in page.url
    page.locator("#id_username").fill("editor")
    page.locator("#id_password").fill(STAFF_PASSWORD)
    shot(page, "login")
    page.locator("#login-form input[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/speeches/speech/import/")
    shot(page, "import-form")

    upload(page, live_server, seed_path)
    page.wait_for_url(f"{live_server.url}/admin/speeches/speech/import/")
    assert detected(page, "标题") == SEED_TITLE
    assert detected(page, "讲者") == "周宇"
    assert page.locator("#paragraphs li").count() == 8
    assert page.locator("#id_title").input_value() == SEED_TITLE
    shot(page, "preview")

    page.locator("input[name=_publish]").click()
    page.wait_for_url(re.compile(r"/admin/speeches/speech/\d+/change/$"))
    speech = Speech.objects.get(title=SEED_TITLE)
    assert speech.status == SpeechStatus.PUBLISHED and speech.paragraphs.count() == 8
    assert page.locator(".messagelist .success").inner_text() == f"已保存讲稿《{SEED_TITLE}》。"
    shot(page, "saved")

    # Saving only queues the index update; the address is searchable once the indexer ran.
    assert SEED_TITLE not in search_titles(page, live_server)
    run_indexer()
    assert SEED_TITLE in search_titles(page, live_server)
    shot(page, "found")
    page.locator(".speech-card__title").get_by_role("link", name=SEED_TITLE).click()
    page.wait_for_url(f"{live_server.url}/speeches/{speech.pk}/")
    assert page.locator(".speech-body .paragraph").count() == 8
    shot(page, "address")

    upload(page, live_server, seed_path)
    page.wait_for_url(f"{live_server.url}/admin/speeches/speech/{speech.pk}/change/")
    assert page.locator(".messagelist .warning").inner_text() == (
        f"同样的文件已经导入过，对应讲稿《{SEED_TITLE}》。"
    )
    assert Speech.objects.filter(title=SEED_TITLE).count() == 1
    shot(page, "duplicate")


# -- every public page: accessibility, phone width, no JavaScript, print --------------------


def test_axe_finds_no_serious_or_critical_violations(new_context, live_server, archive, shot):
    need(AXE_SCRIPT.exists(), f"axe-core is not installed at {AXE_SCRIPT} (run `npm ci`)")
    # axe is injected as an inline script, which the site's Content-Security-Policy forbids.
    page = new_context(bypass_csp=True).new_page()
    found = {}
    for name, path in public_pages(archive).items():
        response = page.goto(live_server.url + path)
        assert response.status == (404 if name == "404" else 200), name
        found[name] = axe_violations(page)
        shot(page, name)
    assert found == dict.fromkeys(found, [])


def test_phone_width_has_no_sideways_scrolling(new_context, live_server, archive, shot):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    overflow = {}
    for name, path in public_pages(archive).items():
        page.goto(live_server.url + path)
        # A mobile browser zooms out to fit a too-wide page, so the layout width is the check.
        assert page.evaluate("() => document.documentElement.clientWidth") == PHONE["width"]
        overflow[name] = sideways_overflow(page)
        shot(page, name)
    assert overflow == dict.fromkeys(overflow, 0)


def test_pages_work_without_javascript(new_context, live_server, archive, shot):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"{live_server.url}/speeches/?year=2024")
    assert card_titles(page) == [SEED_TITLE]
    shot(page, "list-2024")
    page.get_by_role("link", name=SEED_TITLE).click()
    page.wait_for_url(f"{live_server.url}/speeches/{archive.pk}/")
    assert page.locator(".speech-body .paragraph").count() == 8
    page.locator("#p5 .para-link").click()
    page.wait_for_url(re.compile(r"#p5$"))
    shot(page, "paragraph-5")

    box = page.locator("header input[name=q]")
    box.fill("承产业")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    assert card_titles(page) == [SEED_TITLE]
    assert page.locator(".snippets mark").count() > 0
    shot(page, "results")
    snippet = page.locator(".snippets a.snippet-anchor").first
    snippet.click()
    page.wait_for_url(re.compile(rf"/speeches/{archive.pk}/\?hl=[^#]+#p\d+$"))
    shot(page, "snippet-paragraph")


def test_print_stylesheet_prints_the_address_without_navigation(page, live_server, archive, shot):
    page.goto(live_server.url + archive.get_absolute_url())
    assert page.locator(".site-header").is_visible()
    assert page.locator("#p1 .para-link").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert not page.locator("#p1 .para-link").is_visible()
    assert page.locator("#p1").is_visible() and page.locator("h1").is_visible()
    assert page.locator("#citation").is_visible()
    shot(page, "print")
