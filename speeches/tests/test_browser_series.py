"""The pages of a congress's sessions and of a year without addresses, in a real browser at desktop
and phone width: no serious accessibility finding, nothing scrolls sideways.

Screenshots go to test-artifacts/<test>/ for a person to look at.
"""

import pytest

from conftest import need
from speeches import services
from speeches.models import SpeechStatus

from .browser_support import AXE_SCRIPT, PHONE, axe_violations, sideways_overflow

# The browser and its contexts, as the other browser tests start them.
from .test_browser import _orm_beside_playwright, chromium, new_context, shot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SESSIONS = [
    ("1964年政府工作报告（摘要）", "第三届全国人民代表大会第一次会议", "1964-12-21"),
    ("1975年政府工作报告", "第四届全国人民代表大会第一次会议", "1975-01-13"),
    ("1978年政府工作报告——团结起来，为建设社会主义的现代化强国而奋斗", "第五届全国人民代表大会第一次会议", "1978-02-26"),
]  # fmt: skip


@pytest.fixture
def sessions(search_index):
    return [
        services.import_transcript(
            data=f"{title}\n\n各位代表：\n\n现在，我代表国务院，向大会报告政府工作。\n".encode(),
            filename=f"{date}.txt",
            metadata={"title": title, "event": occasion, "date": date},
            status=SpeechStatus.PUBLISHED,
        ).speech
        for title, occasion, date in SESSIONS
    ]


def pages(sessions):
    return {
        "session": sessions[1].get_absolute_url(),
        "event": sessions[1].event.get_absolute_url(),
        "events": "/events/",
        "series": "/events/?series=全国人民代表大会",
        "empty-year": "/years/1966/",
    }


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_series_and_empty_year_pages_read_well(new_context, live_server, sessions, shot, width):  # noqa: F811
    need(AXE_SCRIPT.exists(), f"axe-core is not installed at {AXE_SCRIPT} (run `npm ci`)")
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if width == "phone" else {}
    # axe is injected as an inline script, which the site's Content-Security-Policy forbids.
    page = new_context(bypass_csp=True, **phone).new_page()
    findings, overflow = {}, {}
    for name, path in pages(sessions).items():
        assert page.goto(live_server.url + path).status == 200, name
        findings[name] = axe_violations(page)
        overflow[name] = sideways_overflow(page)
        shot(page, name)
    assert findings == dict.fromkeys(findings, [])
    assert overflow == dict.fromkeys(overflow, 0)
    # The session's page leads to the sessions before and after it, naming them.
    page.goto(live_server.url + sessions[1].get_absolute_url())
    page.get_by_role("link", name="1978年政府工作报告", exact=False).click()
    page.wait_for_url(f"{live_server.url}{sessions[2].get_absolute_url()}")
    page.goto(live_server.url + "/years/1966/")
    page.get_by_role("link", name="1975年").click()
    page.wait_for_url(f"{live_server.url}/years/1975/")
