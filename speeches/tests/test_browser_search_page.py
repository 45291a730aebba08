"""The search page in a real browser: the syntax card, chips, more snippets, the phone layout,
and the address opened from a result with the query marked (?hl=…).

Every step leaves a screenshot in test-artifacts/<test>/ for a person to look at.
"""

import re
from urllib.parse import quote

import pytest
from django.core.management import call_command

from conftest import need
from speeches.models import Speech

from . import test_browser as browser
from .browser_support import AXE_SCRIPT, PHONE, axe_violations, sideways_overflow
from .factories import make_speech
from .test_browser import (
    EXTRA_ADDRESSES,
    QUERY,
    SEED_TITLE,
    card_titles,
    facet,
    result_count,
    target_id,
)

# The other browser tests' fixtures: the browser (one of this module's own) and screenshots.
_orm_beside_playwright = browser._orm_beside_playwright
chromium = browser.chromium
new_context = browser.new_context
page = browser.page
shot = browser.shot


@pytest.fixture
def archive(search_index):
    """The seed and the three addresses around it. The seed first: its fixture's fixed ids
    would otherwise replace the first address, speaker and event made before it."""
    call_command("loaddata", "seed", verbosity=0)
    for address in EXTRA_ADDRESSES:
        make_speech(**address)
    browser.run_indexer()
    return Speech.objects.get(title=SEED_TITLE)


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def top(page, selector):
    return page.eval_on_selector(selector, "el => el.getBoundingClientRect().top")


def test_the_empty_search_page_teaches_the_syntax_by_example(page, live_server, archive, shot):
    page.goto(live_server.url + "/")
    assert page.locator("input[type=search]").count() == 1
    page.get_by_role("link", name="检索语法与示例").click()
    page.wait_for_url(f"{live_server.url}/search/")
    card = page.locator(".syntax-card")
    assert card.is_visible()
    assert page.locator("input[type=search]").count() == 1
    shot(page, "syntax-card")

    card.get_by_role("link", name="质生产", exact=True).click()
    page.wait_for_url(re.compile(r"/search/\?q="))
    assert page.locator("#q-main").input_value() == "质生产"
    assert SEED_TITLE in card_titles(page)
    shot(page, "example")

    page.goto(f"{live_server.url}/search/?q={quote('新质生产力 OR 标准化')}")
    assert (
        page.locator(".search-understood").inner_text().startswith("检索词：新质生产力 或 标准化")
    )
    assert result_count(page) == ["共", "4", "篇"]


def test_a_chosen_facet_is_a_chip_that_takes_it_away(page, live_server, archive, shot):
    page.goto(f"{live_server.url}/search/?q={quote(QUERY)}")
    assert result_count(page) == ["共", "3", "篇"]
    assert page.locator(".chip").count() == 0
    facet(page, "年份").get_by_role("link", name="2023", exact=True).click()
    page.wait_for_url(re.compile(r"year=2023"))
    assert result_count(page) == ["共", "2", "篇"]
    facet(page, "讲者").get_by_role("link", name="李明", exact=True).click()
    page.wait_for_url(re.compile(r"speaker=\d+"))
    assert result_count(page) == ["共", "1", "篇"]
    chips = page.locator(".chip")
    assert [c.split("×")[0] for c in chips.all_inner_texts()] == ["年份：2023", "讲者：李明"]
    shot(page, "two-chips")

    chips.filter(has_text="年份：2023").click()
    page.wait_for_url(re.compile(r"speaker=\d+"))
    assert "year=" not in page.url
    assert [c.split("×")[0] for c in page.locator(".chip").all_inner_texts()] == ["讲者：李明"]
    assert result_count(page) == ["共", "1", "篇"]
    page.locator(".chip").click()
    assert result_count(page) == ["共", "3", "篇"]
    assert page.locator(".chip").count() == 0
    shot(page, "no-chips")


def test_one_snippet_per_hit_and_the_others_on_demand(page, live_server, archive, shot):
    page.goto(f"{live_server.url}/search/?q={quote('轴承')}")
    seed_card = page.locator(".speech-card").filter(has_text=SEED_TITLE)
    assert seed_card.locator(".snippets li").count() == 3
    assert [li.is_visible() for li in seed_card.locator(".snippets li").all()] == [
        True,
        False,
        False,
    ]
    assert re.fullmatch(r"命中 \d+ 处", seed_card.locator(".hit-count").inner_text())
    shot(page, "one-snippet")
    seed_card.locator(".more-snippets summary").click()
    assert all(li.is_visible() for li in seed_card.locator(".snippets li").all())
    shot(page, "more-snippets")


def test_on_a_phone_the_results_come_before_the_facets(new_context, live_server, archive, shot):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{live_server.url}/search/?q={quote(QUERY)}")
    first_card = top(page, ".speech-card")
    assert first_card < PHONE["height"]  # the first result is on the first screen
    assert first_card < top(page, ".facets")
    assert sideways_overflow(page) == 0
    shot(page, "phone")
    page.get_by_role("link", name="筛选 ↓").click()
    page.wait_for_url(re.compile(r"#facets$"))
    assert 0 <= top(page, ".facets") < PHONE["height"] / 2  # or as high as the page's end lets it
    shot(page, "phone-facets")

    page.set_viewport_size({"width": 1280, "height": 800})
    assert not page.get_by_role("link", name="筛选 ↓").is_visible()
    assert top(page, ".facets") == pytest.approx(top(page, ".search-results"), abs=20)


def test_a_snippet_opens_the_address_with_the_query_marked(page, live_server, archive, shot):
    page.goto(f"{live_server.url}/search/?q={quote('軸承')}")
    snippet = page.locator(".speech-card").filter(has_text=SEED_TITLE).locator(".snippet-anchor")
    number = snippet.first.get_attribute("href").rsplit("#p", 1)[1]
    snippet.first.click()
    page.wait_for_url(re.compile(rf"/speeches/{archive.pk}/\?hl=.*#p{number}$"))
    assert target_id(page) == f"p{number}"
    marks = page.locator(".speech-body mark")
    count = marks.count()
    assert count > 10 and all("轴承" in m for m in marks.all_inner_texts())
    assert page.locator(".hl-nav").inner_text().startswith(f"“軸承”在正文中命中 {count} 处")
    # The paragraph is below the bar that stays at the top, not under it.
    bar = page.eval_on_selector(".hl-nav", "el => el.getBoundingClientRect().bottom")
    assert bar <= top(page, f"#p{number}") < 300
    shot(page, "landed")

    # 下一处 steps from where the reader is: the first mark in that paragraph.
    first_here = page.locator(f"#p{number} mark").first.get_attribute("id")
    page.locator(".hl-next").click()
    assert target_id(page) == first_here
    at = int(first_here.split("-")[1])
    page.locator(".hl-next").click()
    assert target_id(page) == f"hl-{at + 1}"
    page.locator(".hl-prev").click()
    page.locator(".hl-prev").click()
    assert target_id(page) == f"hl-{at - 1 if at > 1 else count}"
    shot(page, "stepped")

    page.get_by_role("link", name="取消标记").click()
    page.wait_for_url(f"{live_server.url}/speeches/{archive.pk}/")
    assert page.locator(".speech-body mark").count() == 0


def test_without_javascript_the_marks_and_first_and_last_links_work(
    new_context, live_server, archive, shot
):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"{live_server.url}/speeches/{archive.pk}/?hl={quote('新质生产力')}")
    count = page.locator(".speech-body mark").count()
    assert count > 3
    page.locator(".hl-next").click()
    assert target_id(page) == "hl-1"
    page.locator(".hl-prev").click()
    assert target_id(page) == f"hl-{count}"
    shot(page, "no-js")


def new_pages(address):
    return {
        "syntax-card": "/search/",
        "chips-and-more": f"/search/?q={quote('轴承')}&year=2023&more=speaker",
        "nothing-found": f"/search/?q={quote('不存在的词语')}",
        "marked-address": f"{address.get_absolute_url()}?hl={quote('軸承')}#p5",
    }


def test_the_new_pages_pass_axe_and_fit_a_phone(new_context, live_server, archive, shot):
    need(AXE_SCRIPT.exists(), f"axe-core is not installed at {AXE_SCRIPT} (run `npm ci`)")
    # axe is injected as an inline script, which the site's Content-Security-Policy forbids.
    desktop = new_context(bypass_csp=True).new_page()
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    found, overflow = {}, {}
    for name, path in new_pages(archive).items():
        desktop.goto(live_server.url + path)
        found[name] = axe_violations(desktop)
        shot(desktop, name)
        phone.goto(live_server.url + path)
        overflow[name] = sideways_overflow(phone)
        shot(phone, f"{name}-phone")
    assert found == dict.fromkeys(found, [])
    assert overflow == dict.fromkeys(overflow, 0)
