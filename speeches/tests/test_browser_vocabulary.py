"""Staff teach the archive a term in the admin, in a real browser, and search learns it at once."""

import pytest

from search import vocabulary
from search.models import VocabularyTerm
from search.queue import drain

from .browser_support import Screenshots
from .factories import STAFF_PASSWORD, make_speech, make_staff
from .test_browser_editor import browser, page  # noqa: F401 - the editors' browser and page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TERM = "美丽乡村建设"


def test_a_term_added_in_the_admin_is_one_word_on_the_next_search(page, live_server, search_index):  # noqa: F811
    shot = Screenshots("vocabulary_admin_flow")
    make_speech(title="乡村", paragraphs=[f"推进{TERM}，建设美丽乡村。", "乡村振兴。"])
    drain()
    vocabulary.forget()
    make_staff("linguist", "add_vocabularyterm", "view_vocabularyterm", "change_vocabularyterm")
    search = f"{live_server.url}/search/?q={TERM}&match=words"
    page.goto(search)
    before = page.locator(".search-understood").inner_text()
    assert f"检索词：{TERM}" not in before.replace(" ", "")
    shot(page, "before")

    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill("linguist")
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("#login-form input[type=submit]").click()
    page.goto(f"{live_server.url}/admin/search/vocabularyterm/add/")
    page.locator("#id_term").fill(TERM)
    page.locator("#id_note").fill("浏览器测试")
    shot(page, "form")
    page.locator("input[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/search/vocabularyterm/")
    assert TERM in page.locator("#result_list").inner_text()
    shot(page, "saved")
    assert VocabularyTerm.objects.get(term=TERM).added_by.username == "linguist"

    page.goto(search)
    after = page.locator(".search-understood").inner_text()
    assert f"检索词：{TERM}" in after.replace(" ", "").replace("\n", "")
    assert page.locator(".speech-card").count() == 1
    shot(page, "after")

    page.goto(f"{live_server.url}/admin/search/vocabularyterm/add/")
    page.locator("#id_term").fill("<b>x</b>")
    page.locator("input[name=_save]").click()
    page.locator(".errorlist").first.wait_for()
    assert page.locator(".errornote").count() == 1
    assert not VocabularyTerm.objects.filter(term__contains="x").exists()
    shot(page, "refused")
