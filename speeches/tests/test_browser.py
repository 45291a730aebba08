"""A reader in a real browser (Debian's headless Chromium): from the home page to the seed address."""

import re

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_driver(chromium_paths, *, javascript=True, width=1280, height=900):
    browser, driver = chromium_paths
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
    ]:
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


@pytest.fixture
def browser(chromium_paths):
    driver = make_driver(chromium_paths)
    yield driver
    driver.quit()


@pytest.fixture
def loaded_seed(transactional_db):
    from django.core.management import call_command

    from speeches.models import Speech

    call_command("loaddata", "seed", verbosity=0)
    call_command("run_indexer", "--once", verbosity=0)  # the search app follows by its queue
    return Speech.objects.get()


def test_reader_goes_from_home_to_the_seed_address(browser, live_server, loaded_seed):
    browser.get(live_server.url + "/")
    assert browser.title.startswith("首页")
    browser.find_element(By.LINK_TEXT, "发展新质生产力与轴承产业新机遇").click()
    assert browser.current_url == f"{live_server.url}/speeches/{loaded_seed.pk}/"
    assert browser.title == "发展新质生产力与轴承产业新机遇 · 讲稿库"
    assert browser.find_element(By.TAG_NAME, "h1").text == "发展新质生产力与轴承产业新机遇"
    paragraphs = browser.find_elements(By.CSS_SELECTOR, ".speech-body .paragraph")
    assert len(paragraphs) == 8
    assert paragraphs[0].text.startswith("各位来宾，各位朋友：")
    browser.find_element(By.CSS_SELECTOR, "#p3 .para-link").click()
    assert browser.current_url.endswith("#p3")
    highlighted = browser.execute_script(
        "return getComputedStyle(document.querySelector('#p3')).backgroundColor"
    )
    assert highlighted != browser.execute_script(
        "return getComputedStyle(document.querySelector('#p2')).backgroundColor"
    )


def test_phone_width_has_no_sideways_scrolling(chromium_paths, live_server, loaded_seed):
    driver = make_driver(chromium_paths, width=375, height=812)
    try:
        for path in ["/", f"/speeches/{loaded_seed.pk}/", "/speeches/"]:
            driver.get(live_server.url + path)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, (path, overflow)
    finally:
        driver.quit()


def test_pages_work_without_javascript(chromium_paths, live_server, loaded_seed):
    driver = make_driver(chromium_paths, javascript=False)
    try:
        driver.get(f"{live_server.url}/speeches/?year=2024")
        cards = driver.find_elements(By.CSS_SELECTOR, ".speech-card__title a")
        assert [c.text for c in cards] == ["发展新质生产力与轴承产业新机遇"]
        cards[0].click()
        assert len(driver.find_elements(By.CSS_SELECTOR, ".speech-body .paragraph")) == 8
        box = driver.find_element(By.CSS_SELECTOR, "header input[name=q]")
        box.send_keys("承产业")
        box.submit()
        assert driver.current_url.startswith(f"{live_server.url}/search/?q=")
        hits = driver.find_elements(By.CSS_SELECTOR, ".speech-card__title a")
        assert [h.text for h in hits] == ["发展新质生产力与轴承产业新机遇"]
        snippet_link = driver.find_element(By.CSS_SELECTOR, ".snippets a.snippet-anchor")
        assert driver.find_elements(By.CSS_SELECTOR, ".snippets mark")
        snippet_link.click()
        assert re.search(rf"/speeches/{loaded_seed.pk}/#p\d+$", driver.current_url)
    finally:
        driver.quit()


def test_print_stylesheet_hides_navigation(browser, live_server, loaded_seed):
    browser.get(f"{live_server.url}/speeches/{loaded_seed.pk}/")
    header = browser.find_element(By.CSS_SELECTOR, ".site-header")
    assert header.is_displayed()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not header.is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, "#p1").is_displayed()
