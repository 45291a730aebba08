"""A researcher in a real browser: charts two terms, opens a point of the chart, reads the
keyword-in-context lines of that year and follows one to its paragraph. The research pages pass
axe, fit a phone and need no JavaScript.

Screenshots go to test-artifacts/<test>/ for a person to look at.
"""

import re

import pytest
from django.core.management import call_command

from conftest import need
from search.engine.analysis import fold
from speeches.models import Speech

from .browser_support import AXE_SCRIPT, PHONE, axe_violations, sideways_overflow
from .factories import make_speech

# The browser and its contexts, as the other browser tests have them.
from .test_browser import (  # noqa: F401
    EXTRA_ADDRESSES,
    _orm_beside_playwright,
    chromium,
    new_context,
    page,
    run_indexer,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TERMS = ("新质生产力", "高质量发展")


@pytest.fixture
def archive(search_index):
    """The seed address first (its fixture names its own primary keys), then three more."""
    call_command("loaddata", "seed", verbosity=0)
    for address in EXTRA_ADDRESSES:
        make_speech(**address)
    run_indexer()


def body_occurrences(term, year):
    """(occurrences, addresses) of `term` in the bodies of that year's published addresses."""
    counts = [
        sum(fold(p.text).count(term) for p in speech.paragraphs.all())
        for speech in Speech.objects.published().filter(date__year=year)
    ]
    return sum(counts), sum(1 for c in counts if c)


def test_researcher_charts_two_terms_opens_a_point_and_reads_its_lines(
    page,  # noqa: F811
    live_server,
    archive,
    shot,  # noqa: F811
):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="词语趋势").click()
    page.locator("#trend-q").fill(",".join(TERMS))
    page.locator("#trend-q").press("Enter")
    page.wait_for_url(re.compile(r"/trends/\?q="))
    chart = page.locator("svg.trend-chart")
    assert chart.locator("title").first.text_content() == "每万字出现次数：新质生产力、高质量发展"
    legend = chart.locator("text").all_text_contents()
    assert all(term in legend for term in TERMS)
    years = page.locator(".trend-table tbody th").all_inner_texts()
    with_text = Speech.objects.published().filter(paragraphs__isnull=False)
    assert years == sorted({str(d.year) for d in with_text.values_list("date", flat=True)})
    shot(page, "chart")

    count, addresses = body_occurrences(TERMS[0], 2023)
    assert count >= 2
    point = chart.locator(f'a[aria-label^="{TERMS[0]}，2023年"]')
    assert point.get_attribute("aria-label").startswith(f"{TERMS[0]}，2023年：{count} 次")
    point.click()
    page.wait_for_url(re.compile(r"/search/\?.*year=2023"))
    assert page.locator(".result-count").first.inner_text().split()[:3] == [
        "共",
        str(addresses),
        "篇",
    ]
    shot(page, "point-results")

    page.get_by_role("link", name="查看上下文").click()
    page.wait_for_url(re.compile(r"/concordance/\?.*year=2023"))
    assert page.locator(".result-count").inner_text().split()[:3] == ["共", str(count), "处"]
    rows = page.locator("table.kwic tbody tr")
    assert rows.count() == count
    assert set(rows.locator(".kwic-match").all_inner_texts()) == {TERMS[0]}
    align = page.eval_on_selector(".kwic-left", "el => getComputedStyle(el).textAlign")
    assert align == "right"
    shot(page, "kwic")

    page.get_by_role("link", name="按左侧语境").click()
    page.wait_for_url(re.compile(r"sort=left"))
    lefts = [fold(t)[::-1] for t in page.locator("tbody .kwic-left").all_inner_texts()]
    assert lefts == sorted(lefts)
    first = rows.first
    left = first.locator(".kwic-left").inner_text()
    first.locator(".kwic-match a").click()
    page.wait_for_url(re.compile(r"/speeches/\d+/#p\d+$"))
    number = page.url.rsplit("#p", 1)[1]
    assert left + TERMS[0] in page.locator(f"#p{number}").inner_text()
    shot(page, "paragraph")


def chart_text_contrast_unknown(finding):
    """axe's "needs review" for every text of an <svg>: it never computes a background there."""
    return finding.startswith("serious needs review color-contrast") and all(
        target.startswith("text[") for target in finding.rsplit(" at ", 1)[1].split(", ")
    )


def test_research_pages_pass_axe_fit_a_phone_and_need_no_javascript(
    new_context,  # noqa: F811
    live_server,
    archive,
    shot,  # noqa: F811
):
    need(AXE_SCRIPT.exists(), f"axe-core is not installed at {AXE_SCRIPT} (run `npm ci`)")
    paths = {"trends": "/trends/?q=新质生产力,高质量发展", "kwic": "/concordance/?q=新质生产力"}
    checked = new_context(bypass_csp=True).new_page()
    found = {}
    for name, path in paths.items():
        checked.goto(live_server.url + path)
        found[name] = [f for f in axe_violations(checked) if not chart_text_contrast_unknown(f)]
    assert found == dict.fromkeys(paths, [])
    # What axe leaves to a person: the chart's text against the chart's own background.
    checked.goto(live_server.url + paths["trends"])
    paper = checked.eval_on_selector(
        "svg.trend-chart", "el => getComputedStyle(el).backgroundColor"
    )
    fills = checked.eval_on_selector_all(
        "svg.trend-chart text", "els => els.map(e => e.getAttribute('fill'))"
    )
    assert paper == "rgb(255, 255, 255)" and fills and set(fills) == {"#1d1d1f"}  # 16.8:1

    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    overflow = {}
    for name, path in paths.items():
        phone.goto(live_server.url + path)
        overflow[name] = sideways_overflow(phone)
        shot(phone, f"phone-{name}")
    assert overflow == dict.fromkeys(paths, 0)

    plain = new_context(java_script_enabled=False).new_page()
    plain.goto(live_server.url + paths["trends"])
    assert plain.locator("svg.trend-chart").is_visible()
    plain.locator("svg.trend-chart a").first.click()
    plain.wait_for_url(re.compile(r"/search/\?.*year=\d{4}"))
    assert plain.locator(".speech-card").count() >= 1
    shot(plain, "no-javascript-point")
