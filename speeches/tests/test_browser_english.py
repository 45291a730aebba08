"""A reader whose browser asks for English walks the site in English, around Chinese
transcripts; a reader of the Chinese site switches with the footer's buttons, without JavaScript.

Screenshots go to test-artifacts/<test>/ for a person to look at.
"""

import re
from urllib.parse import quote

import pytest
from django.core.management import call_command

from conftest import need
from speeches.models import RenderedPage, Speech

from .browser_support import AXE_SCRIPT, PHONE, axe_violations, sideways_overflow
from .factories import make_speech

# The browser and its contexts, as the other browser tests start them.
from .test_browser import (  # noqa: F401
    EXTRA_ADDRESSES,
    QUERY,
    SEED_TITLE,
    _orm_beside_playwright,
    card_titles,
    chromium,
    new_context,
    result_count,
    run_indexer,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED_OPENING = "各位来宾，各位朋友："


@pytest.fixture
def stored_archive(english_ui, search_index):
    """The seed address and three more, indexed, their pages stored in both languages as
    after `make setup`. The seed first: it brings its own ids, the others take the next ones."""
    call_command("loaddata", "seed", verbosity=0)
    for address in EXTRA_ADDRESSES:
        make_speech(**address)
    run_indexer()
    call_command("render_pages", verbosity=0)
    seed = Speech.objects.get(title=SEED_TITLE)
    assert RenderedPage.objects.filter(speech=seed, language="en").exists()
    return seed


def language(page):
    return page.evaluate("() => document.documentElement.lang")


def test_reader_walks_home_list_address_and_search_in_english(
    new_context,  # noqa: F811
    live_server,
    stored_archive,
    shot,  # noqa: F811
):
    need(AXE_SCRIPT.exists(), f"axe-core is not installed at {AXE_SCRIPT} (run `npm ci`)")
    # axe is injected as an inline script, which the site's Content-Security-Policy forbids.
    page = new_context(locale="en-US", bypass_csp=True).new_page()
    found = {}

    page.goto(live_server.url + "/")
    assert (language(page), page.title()) == ("en", "Home · Speech Archive")
    assert page.get_by_role("heading", name="Latest speeches").is_visible()
    found["home"] = axe_violations(page)
    shot(page, "home")

    page.get_by_role("link", name="All speeches").click()
    page.wait_for_url(f"{live_server.url}/speeches/")
    assert language(page) == "en"
    assert result_count(page) == ["4", "speeches"]
    assert page.locator("form.filters").get_by_role("button", name="Filter").is_visible()
    found["list"] = axe_violations(page)
    shot(page, "list")

    page.get_by_role("link", name=SEED_TITLE).click()
    page.wait_for_url(f"{live_server.url}{stored_archive.get_absolute_url()}")
    assert (language(page), page.title()) == ("en", f"{SEED_TITLE} · Speech Archive")
    assert page.locator(".speech-body .paragraph").first.inner_text().startswith(SEED_OPENING)
    assert page.locator(".speech-meta dt").all_inner_texts()[:2] == ["Speaker", "Event"]
    assert page.get_by_role("button", name="Copy citation").is_visible()
    found["address"] = axe_violations(page)
    shot(page, "address")

    box = page.locator("header input[name=q]")
    box.fill(QUERY)
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/search/?q={quote(QUERY)}")
    assert language(page) == "en"
    assert result_count(page)[:2] == ["3", "speeches"]
    assert SEED_TITLE in card_titles(page)
    assert page.locator(".facet").get_by_role("heading", name="Year").is_visible()
    found["search"] = axe_violations(page)
    shot(page, "search")

    assert found == dict.fromkeys(found, [])


def test_english_pages_fit_a_phone(new_context, live_server, stored_archive, shot):  # noqa: F811
    page = new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    overflow = {}
    for name, path in {
        "home": "/",
        "list": "/speeches/",
        "address": stored_archive.get_absolute_url(),
        "search": f"/search/?q={quote(QUERY)}",
    }.items():
        page.goto(live_server.url + path)
        assert language(page) == "en", name
        overflow[name] = sideways_overflow(page)
        shot(page, name)
    assert overflow == dict.fromkeys(overflow, 0)


def test_footer_switch_changes_the_language_without_javascript(
    new_context,  # noqa: F811
    live_server,
    stored_archive,
    shot,  # noqa: F811
):
    page = new_context(java_script_enabled=False).new_page()  # a Chinese browser
    address = f"{live_server.url}{stored_archive.get_absolute_url()}"
    page.goto(address)
    assert language(page) == "zh-hans"
    switch = page.get_by_role("form", name="界面语言")
    shot(page, "chinese")

    switch.get_by_role("button", name="English").click()
    page.wait_for_url(address)  # back on the page it was pressed on
    assert (language(page), page.title()) == ("en", f"{SEED_TITLE} · Speech Archive")
    assert page.locator(".speech-body .paragraph").first.inner_text().startswith(SEED_OPENING)
    shot(page, "english")

    page.get_by_role("link", name="Speeches", exact=True).click()
    page.wait_for_url(f"{live_server.url}/speeches/")
    assert language(page) == "en"
    assert re.match(r"\d+ speeches", page.locator(".result-count").inner_text())
    shot(page, "english-list")

    switch = page.get_by_role("form", name="Interface language")
    switch.get_by_role("button", name="简体中文").click()
    page.wait_for_url(f"{live_server.url}/speeches/")
    assert language(page) == "zh-hans"
    assert page.get_by_role("heading", name="讲稿", exact=True).is_visible()
    shot(page, "chinese-again")
