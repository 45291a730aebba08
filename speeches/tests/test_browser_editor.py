"""Editors in a real browser: duplicate confirmation, byline parse, draft preview, change list.

Every step leaves a screenshot in test-artifacts/<test>/ for a person to look at.
"""

import datetime
import re

import pytest
from playwright.sync_api import sync_playwright

from speeches.models import SourceFile, Speech

from .browser_support import CHROMIUM_ARGS, DESKTOP, Screenshots
from .factories import STAFF_PASSWORD, make_speech, seed_copy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser(chromium_path):
    # Module scope, as in test_browser.py: the ORM runs beside Playwright's loop in this
    # module's thread, and the loop must not outlive the module.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def shot(request):
    return Screenshots(request.node.name)


@pytest.fixture
def staff_page(page, live_server, editor):
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill("editor")
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("#login-form input[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


SEED_TITLE = "发展新质生产力与轴承产业新机遇"
IMPORT = "/admin/speeches/speech/import/"


def messages(page):
    return page.locator(".messagelist li").all_inner_texts()


def preview_file(page, live_server, path):
    page.goto(live_server.url + IMPORT)
    page.locator("input[name=file]").set_input_files(path)
    page.locator("input[type=submit][value=预览]").click()


def test_a_copy_of_a_kept_address_needs_confirmation_or_replaces_its_text(
    staff_page, live_server, seed, seed_path, tmp_path, shot
):
    page = staff_page
    copy = tmp_path / "另一来源.txt"
    copy.write_bytes(seed_copy(seed_path))

    # The exact seed file is the fixture's address: no second record, and it becomes its original.
    preview_file(page, live_server, seed_path)
    page.wait_for_url(f"{live_server.url}/admin/speeches/speech/{seed.pk}/change/")
    assert messages(page) == [
        f"正文与已有讲稿《{SEED_TITLE}》完全相同，没有新建记录；此文件已存为它的原始文件。"
    ]
    shot(page, "same-text")

    preview_file(page, live_server, copy)
    page.wait_for_url(live_server.url + IMPORT)
    warning = page.locator("#near-duplicates")
    assert f"《{SEED_TITLE}》相似度 100%" in warning.inner_text()
    assert warning.get_by_role("link", name="打开已有讲稿").get_attribute("href") == (
        f"/admin/speeches/speech/{seed.pk}/change/"
    )
    shot(page, "preview")
    page.locator("input[name=_publish]").click()
    page.wait_for_load_state()
    assert "几乎相同，没有保存" in page.locator("form .errornote").inner_text()
    assert Speech.objects.count() == 1
    shot(page, "refused")

    page.get_by_role("button", name="用此文件替换其正文").click()
    page.wait_for_url(f"{live_server.url}/admin/speeches/speech/{seed.pk}/change/")
    assert messages(page) == [f"已用上传的文本替换讲稿《{SEED_TITLE}》的正文。"]
    assert page.locator("#id_title").input_value() == SEED_TITLE
    shot(page, "replaced")
    assert Speech.objects.count() == 1
    assert sorted(SourceFile.objects.values_list("original_name", flat=True)) == [
        "000_13569e6f98d268da.txt",
        "另一来源.txt",
    ]
    page.goto(live_server.url + seed.get_absolute_url())
    assert (
        page.locator(".speech-body .paragraph").last.inner_text().startswith("预祝峰会圆满成功！")
    )

    # Saving it as an address of its own takes a ticked box.
    other = tmp_path / "再一份.txt"
    other.write_bytes(seed_copy(seed_path).replace("各位来宾".encode(), "各位嘉宾".encode()))
    preview_file(page, live_server, other)
    page.wait_for_url(live_server.url + IMPORT)
    page.get_by_label("仍然另存为新讲稿").check()
    shot(page, "save-anyway")
    page.locator("input[name=_draft]").click()
    page.wait_for_url(re.compile(r"/admin/speeches/speech/\d+/change/$"))
    assert Speech.objects.count() == 2


def test_pasted_byline_is_parsed_and_the_draft_is_previewed_by_staff_only(
    staff_page, live_server, browser, shot
):
    page = staff_page
    page.goto(live_server.url + IMPORT)
    text = "\n\n".join(
        [
            "推动行业高质量发展",
            "某某协会会长  张三",
            "2024年5月10日",
            "各位代表：",
            "今天我们召开年会。",
        ]
    )
    page.locator("textarea[name=text]").fill(text)
    page.locator("input[type=submit][value=预览]").click()
    page.wait_for_url(live_server.url + IMPORT)
    detected = dict(
        zip(
            page.locator("#detected-fields tbody th").all_inner_texts(),
            page.locator("#detected-fields tbody td:nth-child(2)").all_inner_texts(),
            strict=True,
        )
    )
    assert (detected["标题"], detected["讲者"], detected["时任职务"], detected["代表机构"]) == (
        "推动行业高质量发展",
        "张三",
        "会长",
        "某某协会",
    )
    assert detected["日期"] == "2024-05-10"
    # The source names no kind: the preview says so and the form does not pretend otherwise.
    assert detected["类型"] == ""
    assert page.locator("#id_kind").input_value() == ""
    shot(page, "preview")
    page.locator("#id_kind").select_option("讲话")
    page.locator("input[name=_draft]").click()
    page.wait_for_url(re.compile(r"/admin/speeches/speech/\d+/change/$"))
    speech = Speech.objects.get()
    assert (speech.title, speech.speaker.name, speech.status) == (
        "推动行业高质量发展",
        "张三",
        "draft",
    )

    page.get_by_role("link", name="在站点上查看").click()
    page.wait_for_url(f"{live_server.url}{speech.get_absolute_url()}")
    assert page.locator(".draft-notice").inner_text().startswith("草稿")
    assert page.title().startswith("［草稿］推动行业高质量发展")
    shot(page, "draft-for-staff")

    reader = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    response = reader.goto(f"{live_server.url}{speech.get_absolute_url()}")
    assert response.status == 404 and "推动行业高质量发展" not in reader.content()
    shot(reader, "draft-for-readers")
    reader.close()


def test_the_change_list_is_readable_at_1280_pixels(staff_page, live_server, seed, shot):
    for year in range(2015, 2025):
        make_speech(
            title=f"{year}年国务院政府工作报告",
            speaker="李克强",
            organization="中华人民共和国国务院",
            position="国务院总理",
            event=f"第十二届全国人民代表大会第{year - 2014}次会议（{year}年）",
            date=datetime.date(year, 3, 5),
        )
    page = staff_page
    page.goto(f"{live_server.url}/admin/speeches/speech/")
    shot(page, "list")
    # Nothing runs off to the side, and every title has room for a dozen characters a line.
    assert (
        page.evaluate(
            "() => { const r = document.querySelector('.results'); return r.scrollWidth - r.clientWidth; }"
        )
        <= 0
    )
    font = page.eval_on_selector(".field-title a", "a => parseFloat(getComputedStyle(a).fontSize)")
    widths = page.locator("#result_list .field-title").evaluate_all(
        "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert len(widths) == 11 and min(widths) >= 12 * font
    row = page.locator("#result_list tbody tr").filter(has_text=SEED_TITLE)
    assert row.locator(".field-date_shown").inner_text() == "2024年"
