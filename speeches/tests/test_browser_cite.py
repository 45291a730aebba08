"""A reader cites an address in a real browser: reads the GB/T 7714 line, copies it with the button,
downloads the BibTeX; without JavaScript the line is still there to select, and no dead button.

Screenshots go to test-artifacts/<test>/ for a person to look at.
"""

import bibtexparser
import pytest
from django.core.management import call_command

from conftest import need
from speeches.models import RenderedPage, Speech

from .browser_support import AXE_SCRIPT, PHONE, axe_violations, sideways_overflow

# The browser and its contexts, as the other browser tests start them.
from .test_browser import _orm_beside_playwright, chromium, new_context, shot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "发展新质生产力与轴承产业新机遇"


@pytest.fixture
def address(db):
    """The seed address, its page stored as readers are served it."""
    call_command("loaddata", "seed", verbosity=0)
    call_command("render_pages", verbosity=0)
    speech = Speech.objects.get(title=TITLE)
    assert RenderedPage.objects.filter(speech=speech).exists()
    return speech


def expected_citation(live_server, speech):
    return (
        f"周宇. {TITLE}: 2024 上海国际轴承峰会致辞[R/OL]. 2024 上海国际轴承峰会, 2024. "
        f"{live_server.url}{speech.get_absolute_url()}."
    )


def test_reader_copies_the_citation_and_downloads_its_bibtex(
    new_context,  # noqa: F811
    live_server,
    address,
    shot,  # noqa: F811
):
    context = new_context(permissions=["clipboard-read", "clipboard-write"], accept_downloads=True)
    page = context.new_page()
    page.goto(live_server.url + address.get_absolute_url())
    citation = page.locator("#citation").inner_text()
    assert citation == expected_citation(live_server, address)

    button = page.get_by_role("button", name="复制引用")
    assert button.is_visible()
    button.click()
    status = page.locator(".citation .copy-status")
    status.filter(has_text="已复制引用").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == citation
    shot(page, "copied")

    with page.expect_download() as info:
        page.get_by_role("link", name="BibTeX").click()
    download = info.value
    assert download.suggested_filename == f"{TITLE}.bib"
    library = bibtexparser.parse_string(open(download.path(), encoding="utf-8").read())
    fields = library.entries[0].fields_dict
    assert fields["title"].value == f"{TITLE}: 2024 上海国际轴承峰会致辞"
    assert fields["url"].value == f"{live_server.url}{address.get_absolute_url()}"


def test_without_javascript_the_citation_is_text_and_no_button_shows(
    new_context,  # noqa: F811
    live_server,
    address,
    shot,  # noqa: F811
):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(live_server.url + address.get_absolute_url())
    assert page.locator("#citation").inner_text() == expected_citation(live_server, address)
    assert not page.locator(".copy-button").is_visible()
    assert page.get_by_role("link", name="RIS").is_visible()
    shot(page, "no-js")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_citation_block_reads_well(new_context, live_server, address, shot, width):  # noqa: F811
    need(AXE_SCRIPT.exists(), f"axe-core is not installed at {AXE_SCRIPT} (run `npm ci`)")
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if width == "phone" else {}
    # axe is injected as an inline script, which the site's Content-Security-Policy forbids.
    page = new_context(bypass_csp=True, **phone).new_page()
    page.goto(live_server.url + address.get_absolute_url())
    page.locator(".copy-button").wait_for()
    page.locator(".citation").scroll_into_view_if_needed()
    assert axe_violations(page) == []
    assert sideways_overflow(page) == 0
    shot(page, "citation")
