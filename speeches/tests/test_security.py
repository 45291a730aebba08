"""Security headers, CSRF, the staff login throttle, API rate limits, paging bounds and who may
see or change what. Search-specific limits are in search/tests/test_search_limits.py."""

import datetime
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from config import throttle
from search.queue import drain
from speeches import services
from speeches.models import SourceFile, Speech, SpeechStatus

from .factories import STAFF_PASSWORD, make_speech, make_staff

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = STAFF_PASSWORD


def client_for(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


# -- headers on every kind of page ------------------------------------------------------------


def public_urls(seed):
    return [
        "/",
        "/speeches/",
        f"/speeches/{seed.pk}/",
        "/events/",
        f"/events/{seed.event_id}/",
        "/people/",
        f"/people/{seed.speaker_id}/",
        f"/organizations/{seed.organization_id}/",
        f"/years/{seed.date.year}/",
        "/search/?q=轴承",
        "/api/v1/search?q=轴承",
        "/api/v1/speeches",
        f"/api/v1/speeches/{seed.pk}",
        "/opensearch.xml",
        reverse("speeches:feed_rss"),
        reverse("speeches:feed_atom"),
        "/admin/login/",
    ]


def admin_urls(seed):
    return [
        "/admin/",
        "/admin/speeches/speech/",
        "/admin/speeches/speech/add/",
        f"/admin/speeches/speech/{seed.pk}/change/",
        "/admin/speeches/speech/import/",
        "/admin/speeches/event/",
        f"/admin/speeches/event/{seed.event_id}/change/",
        "/admin/auth/user/",
    ]


def assert_security_headers(response, url=""):
    csp = dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in response["Content-Security-Policy"].split(";")
    )
    assert csp["script-src"] == "'self'", url
    assert "unsafe-inline" not in csp["default-src"] + csp["script-src"], url
    assert csp["object-src"] == "'none'", url
    assert csp["frame-ancestors"] == "'none'", url
    assert csp["base-uri"] == "'self'", url
    assert csp["form-action"] == "'self'", url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["Referrer-Policy"] == "same-origin", url
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
    assert "camera=()" in response["Permissions-Policy"], url
    assert response["X-Frame-Options"] == "DENY", url


class ScriptFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts and handlers."""

    def __init__(self):
        super().__init__()
        self.blocked, self.in_inline_script = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}={value!r}>")
        data_block = attrs.get("type", "text/javascript") not in ("text/javascript", "module")
        self.in_inline_script = tag == "script" and "src" not in attrs and not data_block

    def handle_endtag(self, tag):
        self.in_inline_script = False

    def handle_data(self, data):
        if self.in_inline_script and data.strip():
            self.blocked.append(f"<script>{data.strip()[:80]}")


def inline_script(html):
    finder = ScriptFinder()
    finder.feed(html)
    return finder.blocked


def test_the_script_finder_finds_inline_script():
    html = '<script>alert(1)</script><a href="javascript:x()">x</a><p onclick="y()">'
    assert len(inline_script(html)) == 3
    assert (
        inline_script('<script src="/s.js"></script><script type="application/json">{}</script>')
        == []
    )


def test_every_page_carries_the_headers_and_no_inline_script(seed, search_index, boss):
    drain()
    reader = Client()
    # The results page is checked with hits, snippets and facets on it, not an empty index.
    assert "<mark>轴承</mark>" in reader.get("/search/?q=轴承").content.decode()
    for url in public_urls(seed):
        response = reader.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url)
        if response["Content-Type"].startswith("text/html"):
            assert inline_script(response.content.decode()) == [], url
    for url in admin_urls(seed):
        response = boss.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url)
        assert inline_script(response.content.decode()) == [], url


def test_errors_and_static_files_carry_the_headers(db):
    missing = Client().get("/speeches/999999/")
    assert missing.status_code == 404
    assert_security_headers(missing)
    wrong_method = Client().post("/speeches/")
    assert wrong_method.status_code == 405
    assert_security_headers(wrong_method)
    static = Client().get("/static/js/copy-link.js")
    assert static.status_code == 200
    assert "script-src 'self'" in static["Content-Security-Policy"]
    assert static["X-Content-Type-Options"] == "nosniff"


def test_only_the_admin_allows_inline_style(seed, boss):
    # Django's change list carries a <style> block; the public pages have none and need none.
    assert "style-src 'self';" in Client().get("/").headers["Content-Security-Policy"]
    admin_csp = boss.get("/admin/speeches/speech/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline';" in admin_csp
    assert "script-src 'self';" in admin_csp


# -- CSRF --------------------------------------------------------------------------------------


def csrf_token(client, url):
    client.get(url)
    return client.cookies["csrftoken"].value


def test_admin_login_without_a_csrf_token_is_refused(superuser):
    client = Client(enforce_csrf_checks=True)
    data = {"username": "boss", "password": PASSWORD, "next": "/admin/"}
    refused = client.post("/admin/login/", data)
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    data["csrfmiddlewaretoken"] = csrf_token(client, "/admin/login/")
    assert client.post("/admin/login/", data).status_code == 302
    assert client.session["_auth_user_id"] == str(superuser.pk)


def test_every_admin_form_refuses_a_post_without_a_csrf_token(seed, superuser):
    client = client_for(superuser, enforce_csrf_checks=True)
    change = f"/admin/speeches/speech/{seed.pk}/change/"
    posts = {
        "/admin/speeches/speech/import/": {"text": "各位朋友：\n\n今天我们在这里聚会。"},
        "/admin/speeches/speech/import/save/": {"title": "x", "body": "y"},
        change: {"title": "改过的标题", "kind": seed.kind, "status": "published", "body": "正文"},
        "/admin/speeches/speech/add/": {"title": "新讲稿", "body": "正文"},
        "/admin/speeches/speech/": {"action": "unpublish", "_selected_action": [seed.pk]},
        f"/admin/speeches/speech/{seed.pk}/delete/": {"post": "yes"},
        "/admin/password_change/": {"old_password": PASSWORD},
        "/admin/logout/": {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    seed.refresh_from_db()
    assert seed.title == "发展新质生产力与轴承产业新机遇" and seed.status == "published"
    assert client.get("/admin/").status_code == 200  # still logged in: logout was refused too
    # The same upload with the token goes through: the refusals above were the missing token.
    token = csrf_token(client, "/admin/speeches/speech/import/")
    data = {**posts["/admin/speeches/speech/import/"], "csrfmiddlewaretoken": token}
    preview = client.post("/admin/speeches/speech/import/", data)
    assert preview.status_code == 200 and "预览" in preview.content.decode()


def test_public_pages_take_no_posts(seed):
    for url in public_urls(seed):
        if url.startswith("/admin/"):
            continue
        assert Client(enforce_csrf_checks=True).post(url).status_code == 403, url
        # Django's feed views answer any method with the feed, which changes nothing.
        if "/feeds/" not in url:
            assert Client().post(url).status_code == 405, url


def test_public_pages_answer_head_requests(seed):
    # Uptime monitors and link checkers ask with HEAD.
    for url in public_urls(seed):
        if not url.startswith("/admin/"):
            response = Client().head(url)
            assert response.status_code == 200 and not response.content, url


# -- staff login throttle -----------------------------------------------------------------------


def log_in(password, *, username="boss", ip="10.0.0.1"):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )
    return response, client


def logged_in(client):
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_login_even_with_the_right_password(superuser, caplog):
    for _ in range(5):
        response, _client = log_in("wrong")
        assert response.status_code == 200 and "登录失败次数过多" not in response.content.decode()
    assert "admin login locked for 'boss' from 10.0.0.1 after 5 failures" in caplog.text
    response, client = log_in(PASSWORD)
    assert response.status_code == 200
    assert "登录失败次数过多，已暂时锁定。请 15 分钟后再试。" in response.content.decode()
    assert not logged_in(client)
    # Another client, or another user name from this one, is not locked out.
    response, client = log_in(PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302 and logged_in(client)
    User.objects.create_superuser("deputy", password=PASSWORD)
    response, client = log_in(PASSWORD, username="deputy")
    assert response.status_code == 302 and logged_in(client)


def test_the_lock_ends_when_the_window_passes(superuser, monkeypatch):
    for _ in range(5):
        log_in("wrong")
    assert not logged_in(log_in(PASSWORD)[1])
    later = throttle._now() + 15 * 60 + 1
    monkeypatch.setattr(throttle, "_now", lambda: later)
    assert logged_in(log_in(PASSWORD)[1])


def test_a_success_clears_the_failures(superuser):
    for _ in range(4):
        log_in("wrong")
    assert logged_in(log_in(PASSWORD)[1])
    for _ in range(4):
        log_in("wrong")
    # Eight failures in all, but never five since the last success.
    assert logged_in(log_in(PASSWORD)[1])
    for _ in range(5):
        log_in("wrong")
    assert not logged_in(log_in(PASSWORD)[1])


def test_user_names_differing_in_case_share_a_count(superuser):
    for name in ("boss", "BOSS", "Boss", " boss", "bOss"):
        log_in("wrong", username=name)
    assert not logged_in(log_in(PASSWORD)[1])


def test_failures_counted_by_one_process_lock_the_login_in_another(superuser, settings, tmp_path):
    """gunicorn's workers are separate processes: the count lives in a shared file cache."""
    settings.CACHES = {**settings.CACHES, "throttle": {**settings.CACHES["throttle"]}}
    settings.CACHES["throttle"]["LOCATION"] = str(tmp_path / "throttle")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", ARCHIVE_DATA_DIR=str(tmp_path))
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from config.throttle import record_login_failure\n"
        "assert settings.CACHES['throttle']['LOCATION'].endswith('throttle')\n"
        "for _ in range(5): record_login_failure('10.0.0.9\\nboss')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    response, client = log_in(PASSWORD, ip="10.0.0.9")
    assert "登录失败次数过多" in response.content.decode() and not logged_in(client)
    assert logged_in(log_in(PASSWORD, ip="10.0.0.10")[1])


def test_a_single_login_is_never_throttled(superuser):
    for _ in range(10):
        response, client = log_in(PASSWORD)
        assert response.status_code == 302 and logged_in(client)


# -- API rate limit -----------------------------------------------------------------------------


def test_the_api_answers_429_with_retry_after_past_the_rate(seed, settings):
    settings.ARCHIVE_SEARCH_RATE = "3/60"
    client = Client()
    for _ in range(3):
        assert client.get("/api/v1/speeches", REMOTE_ADDR="10.1.0.1").status_code == 200
    refused = client.get(f"/api/v1/speeches/{seed.pk}", REMOTE_ADDR="10.1.0.1")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = json.loads(refused.content)
    assert body["detail"] == f"请求过于频繁，请 {refused['Retry-After']} 秒后再试。"
    assert refused["Content-Type"] == "application/json"
    assert_security_headers(refused)
    # Other clients and the address pages are unaffected.
    assert client.get("/api/v1/speeches", REMOTE_ADDR="10.1.0.2").status_code == 200
    assert client.get(f"/speeches/{seed.pk}/", REMOTE_ADDR="10.1.0.1").status_code == 200


def test_the_limit_ends_with_its_window(seed, settings, monkeypatch):
    settings.ARCHIVE_SEARCH_RATE = "2/60"
    client = Client()
    codes = [client.get("/api/v1/speeches").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    later = throttle._now() + 61
    monkeypatch.setattr(throttle, "_now", lambda: later)
    assert client.get("/api/v1/speeches").status_code == 200


def test_forwarded_for_counts_only_behind_a_trusted_proxy(seed, settings):
    settings.ARCHIVE_SEARCH_RATE = "2/60"
    client = Client()

    def get(forwarded):
        return client.get(
            "/api/v1/speeches", REMOTE_ADDR="10.2.0.1", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    # Untrusted: a client cannot escape its limit by making up the header.
    assert [get(f"203.0.113.{i}") for i in range(3)] == [200, 200, 429]
    settings.ARCHIVE_TRUST_X_FORWARDED_FOR = True
    # Trusted: the first hop is the client; the proxy's own address counts for nothing.
    assert [get("198.51.100.7, 10.2.0.1") for _ in range(3)] == [200, 200, 429]
    assert get("198.51.100.8, 10.2.0.1") == 200


def test_ipv6_clients_count_by_their_64(seed, settings):
    settings.ARCHIVE_SEARCH_RATE = "2/60"
    client = Client()
    codes = [
        client.get("/api/v1/speeches", REMOTE_ADDR=f"2001:db8:1:2::{i}").status_code
        for i in range(1, 4)
    ]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/speeches", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_zero_turns_the_limit_off_and_nonsense_is_refused(seed, settings):
    settings.ARCHIVE_SEARCH_RATE = "0"
    client = Client()
    assert {client.get("/api/v1/speeches").status_code for _ in range(70)} == {200}
    settings.ARCHIVE_SEARCH_RATE = "sixty"
    with pytest.raises(ImproperlyConfigured):
        client.get("/api/v1/speeches")


# -- bounded paging of the address lists --------------------------------------------------------


@pytest.fixture
def five_speeches(db):
    return [
        make_speech(title=f"第{i}篇讲话", date=datetime.date(2020, 1, i), event="年会")
        for i in range(1, 6)
    ]


def test_list_pages_stop_at_the_result_window(five_speeches, settings):
    settings.ARCHIVE_PAGE_SIZE = 1
    settings.ARCHIVE_MAX_RESULTS = 3
    client = Client()
    deep = client.get("/speeches/?page=999999").content.decode()
    # The count stays true; the pages end at the window, and the last has no "next" link.
    assert "共 5 篇" in deep and "第 3 / 3 页" in deep and 'rel="next"' not in deep
    assert "第3篇讲话" in deep  # newest first: the third page holds the third newest
    assert 'rel="next" href="?page=3"' in client.get("/speeches/?page=2").content.decode()
    event = client.get(f"/events/{five_speeches[0].event_id}/?page=4").content.decode()
    assert "第 3 / 3 页" in event


def test_api_list_stops_at_the_result_window(five_speeches, settings):
    settings.ARCHIVE_PAGE_SIZE = 2
    settings.ARCHIVE_MAX_RESULTS = 4
    client = Client()
    second = client.get("/api/v1/speeches?page=2").json()
    assert second["count"] == 5 and second["next"] is None
    deep = client.get("/api/v1/speeches?page=999999").json()
    assert [r["title"] for r in deep["results"]] == ["第3篇讲话", "第2篇讲话"]
    assert deep["next"] is None and deep["previous"].endswith("page=1")


# -- who may see and change what -----------------------------------------------------------------


@pytest.fixture
def draft(seed, search_index):
    """A draft with words of its own, queued for the index like any save."""
    speech = make_speech(
        title="未公开的内部讲话",
        speaker="内部讲者甲",
        organization="内部机构乙",
        event="内部会议丙",
        date=datetime.date(1999, 3, 4),
        status=SpeechStatus.DRAFT,
        paragraphs=("只在草稿里出现的一句话。",),
    )
    drain()
    return speech


def reader_urls(seed, draft):
    return [
        *(url for url in public_urls(seed) if not url.startswith("/admin/")),
        f"/speeches/{draft.pk}/",
        f"/api/v1/speeches/{draft.pk}",
        f"/events/{draft.event_id}/",
        f"/people/{draft.speaker_id}/",
        f"/organizations/{draft.organization_id}/",
        "/years/1999/",
        f"/speeches/?event={draft.event_id}",
        f"/speeches/?speaker={draft.speaker_id}",
        f"/speeches/?organization={draft.organization_id}",
        "/speeches/?year=1999",
        "/speeches/?sort=date",
        "/api/v1/speeches?page=1",
        "/search/?q=只在草稿里出现",
        "/api/v1/search?q=只在草稿里出现",
    ]


def assert_no_draft(client, seed, draft):
    for url in reader_urls(seed, draft):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        text = response.content.decode()
        assert draft.title not in text and "只在草稿里出现的一句话" not in text, url
    assert client.get(f"/speeches/{draft.pk}/").status_code == 404
    assert client.get(f"/api/v1/speeches/{draft.pk}").status_code == 404
    assert client.get("/years/1999/").status_code == 404


def test_readers_never_see_a_draft(seed, draft):
    reader = Client()
    assert_no_draft(reader, seed, draft)
    # Make sure the check above could see it: published, the same URLs show it.
    services.publish(speech=draft)
    drain()
    for url in [
        f"/speeches/{draft.pk}/",
        "/api/v1/speeches",
        "/search/?q=只在草稿里出现",
        "/api/v1/search?q=只在草稿里出现",
    ]:
        assert draft.title in reader.get(url).content.decode(), url


def test_unpublishing_hides_a_page_readers_already_saw(seed):
    reader = Client()
    assert reader.get(f"/speeches/{seed.pk}/").status_code == 200  # now cached for readers
    services.unpublish(speech=seed)
    assert reader.get(f"/speeches/{seed.pk}/").status_code == 404
    assert seed.title not in reader.get("/speeches/").content.decode()


def test_staff_without_speech_permissions_see_no_drafts_either(seed, draft):
    clerk = client_for(make_staff("clerk"))
    assert_no_draft(clerk, seed, draft)
    assert clerk.get("/admin/speeches/speech/").status_code == 403
    assert draft.title not in clerk.get("/admin/").content.decode()


def test_anonymous_users_get_no_admin_page(seed, draft):
    source = SourceFile.objects.create(
        sha256="0" * 64, original_name="a.txt", size=1, encoding="utf-8", speech=draft
    )
    urls = [
        "/admin/",
        "/admin/speeches/speech/",
        "/admin/speeches/speech/add/",
        f"/admin/speeches/speech/{draft.pk}/change/",
        f"/admin/speeches/speech/{draft.pk}/delete/",
        "/admin/speeches/speech/import/",
        "/admin/speeches/speech/import/save/",
        reverse("admin:speeches_sourcefile_download", args=[source.pk]),
        "/admin/speeches/sourcefile/",
        "/admin/speeches/paragraph/",
        "/admin/auth/user/",
    ]
    reader = Client()
    for url in urls:
        for response in (reader.get(url), reader.post(url, {"title": "x"})):
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/"), url
            assert draft.title not in response.content.decode()
    assert Speech.objects.get(pk=draft.pk).title == "未公开的内部讲话"


def import_and_change(client, speech):
    change = f"/admin/speeches/speech/{speech.pk}/change/"
    data = {
        "title": "改过的标题",
        "kind": speech.kind,
        "status": "published",
        "body": "改过的正文。",
    }
    return {
        "import": client.get("/admin/speeches/speech/import/").status_code,
        "import_post": client.post(
            "/admin/speeches/speech/import/", {"text": "各位朋友：\n\n今天开会。"}
        ).status_code,
        "save": client.post("/admin/speeches/speech/import/save/", {}).status_code,
        "change": client.get(change).status_code,
        "change_post": client.post(change, data).status_code,
    }


DRAFT_AS_WRITTEN = ("未公开的内部讲话", SpeechStatus.DRAFT, "只在草稿里出现的一句话。")
REFUSED = dict.fromkeys(("import", "import_post", "save", "change", "change_post"), 403)


@pytest.mark.parametrize(
    ("codenames", "outcome", "after"),
    [
        ((), REFUSED, DRAFT_AS_WRITTEN),
        (("view_speech",), {**REFUSED, "change": 200}, DRAFT_AS_WRITTEN),
        (
            ("add_speech",),
            {**REFUSED, "import": 200, "import_post": 200, "save": 302},
            DRAFT_AS_WRITTEN,
        ),
        (
            ("change_speech",),
            {**REFUSED, "change": 200, "change_post": 302},
            ("改过的标题", SpeechStatus.PUBLISHED, "改过的正文。"),
        ),
    ],
    ids=["no permission", "view", "add", "change"],
)
def test_each_permission_allows_its_own_steps_only(draft, codenames, outcome, after):
    assert import_and_change(client_for(make_staff("staff", *codenames)), draft) == outcome
    draft.refresh_from_db()
    assert (draft.title, draft.status, draft.body_text()) == after


def test_the_counter_cache_lists_its_folder_rarely_and_drops_expired_counters_first(tmp_path):
    from config.cache import CULL_EVERY, ThrottleCache

    store = ThrottleCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10}})
    store.set("old", 1, timeout=-1)  # already expired
    listings = []
    listed = store._list_cache_files
    store._list_cache_files = lambda: listings.append(1) or listed()
    for n in range(CULL_EVERY):
        store.set(f"live{n % 5}", n)
    # One cull in CULL_EVERY sets; it removed the expired counter and kept the five live ones.
    assert 1 <= len(listings) <= 2
    assert len(listed()) == 5 and all(store.get(f"live{n}") is not None for n in range(5))
