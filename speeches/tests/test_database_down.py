"""While the database cannot be reached, every page answers 503, never a traceback.

The outage is real, not a mock: the default connection is swapped for one to a closed port
(PostgreSQL) or to an SQLite file in a directory that does not exist, so every query fails in
the database driver. search/tests/test_database_down.py does the same against gunicorn,
cutting connections that are already open.
"""

import json
import socket
from contextlib import contextmanager

import pytest
from django.db import connections
from django.db.utils import IntegrityError, ProgrammingError
from django.test import Client, RequestFactory

from config.middleware import DatabaseUnavailableMiddleware
from speeches.models import ArchiveStamp

pytestmark = pytest.mark.django_db

PAGES = ["/", "/speeches/", "/speeches/{pk}/", "/people/"]
API = ["/api/v1/speeches", "/api/v1/speeches/{pk}"]


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_away(tmp_path):
    @contextmanager
    def away():
        real = connections["default"]
        target = dict(real.settings_dict)
        if real.vendor == "sqlite":
            target["NAME"] = str(tmp_path / "moved-away" / "archive.sqlite3")
        else:
            target.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        broken = real.__class__(target, alias="default")
        connections["default"] = broken
        try:
            yield
        finally:
            broken.close()
            connections["default"] = real

    return away


def _assert_unavailable_page(response, url):
    body = response.content.decode()
    assert response.status_code == 503, (url, response.status_code, body[:300])
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    assert "<h1>服务暂时不可用</h1>" in body
    assert "Traceback" not in body and "OperationalError" not in body


def test_pages_answer_503_while_the_database_is_away_and_recover(client, seed, database_away):
    urls = [url.format(pk=seed.pk) for url in PAGES]
    with database_away():
        for url in urls:
            _assert_unavailable_page(client.get(url), url)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_api_answers_json_503(client, seed, database_away):
    urls = [url.format(pk=seed.pk) for url in API]
    with database_away():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 503, url
            assert response["Content-Type"] == "application/json"
            assert response["Retry-After"] == "30"
            assert json.loads(response.content) == {
                "detail": "数据库暂时无法访问，请稍后再试。",
                "retry_after": 30,
            }
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_a_signed_in_editor_gets_503_and_keeps_the_session(client, seed, database_away, editor):
    # The session and request.user are read from the database, lazily, inside the view.
    client.force_login(editor)
    url = f"/speeches/{seed.pk}/"
    with database_away():
        _assert_unavailable_page(client.get(url), url)
    assert client.cookies["sessionid"].value, "the outage must not sign the editor out"
    response = client.get(url)
    assert response.status_code == 200
    assert response.wsgi_request.user == editor


class _ReadsTheDatabase:
    """A middleware inside ours that queries before the view, as a visit counter would."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ArchiveStamp.objects.exists()
        return self.get_response(request)


def test_an_error_outside_the_view_is_a_503_not_a_debug_traceback(seed, database_away, settings):
    # Django turns that error into a 500 (under DEBUG a traceback page) before ours sees it.
    settings.DEBUG = True
    position = settings.MIDDLEWARE.index("config.middleware.DatabaseUnavailableMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: position + 1],
        f"{__name__}._ReadsTheDatabase",
        *settings.MIDDLEWARE[position + 1 :],
    ]
    client = Client(raise_request_exception=False)
    with database_away():
        _assert_unavailable_page(client.get("/"), "/")
    assert client.get("/").status_code == 200


def test_other_database_errors_are_not_hidden_as_503():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/")
    for error in (IntegrityError("duplicate"), ProgrammingError("no such column")):
        assert middleware.process_exception(request, error) is None
