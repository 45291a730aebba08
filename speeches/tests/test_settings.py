"""The production settings refuse to start without secrets, pass Django's deploy check with them,
and keep the security middleware and shared throttle counters of every environment."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "speeches.example.org"


@pytest.fixture(scope="module")
def prod_env(tmp_path_factory):
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "ARCHIVE_DATA_DIR": str(tmp_path_factory.mktemp("prod-data")),
    }


def run(args, env_extra, settings="config.settings.prod"):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARCHIVE_"))}
    env.update(env_extra, DJANGO_SETTINGS_MODULE=settings)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def run_check(env_extra):
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env_extra)


def test_prod_refuses_to_start_without_secrets():
    result = run_check({})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_prod_refuses_to_start_without_allowed_hosts():
    result = run_check({"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_prod_deploy_check_is_clean_with_secrets(prod_env):
    result = run_check(prod_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr


def test_a_weak_secret_fails_the_deploy_check(prod_env):
    # The check above could fail: Django does warn about a short key, and --fail-level makes it fatal.
    result = run_check({**prod_env, "DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "security.W009" in result.stderr


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/opensearch.xml", secure=True, HTTP_HOST=sys.argv[1])
print(json.dumps({
    "status": response.status_code,
    "headers": dict(response.headers),
    "throttle": settings.CACHES["throttle"],
    "data_dir": str(settings.DATA_DIR),
    "search_rate": settings.ARCHIVE_SEARCH_RATE,
    "login_rate": settings.ARCHIVE_LOGIN_RATE,
    "trust_xff": settings.ARCHIVE_TRUST_X_FORWARDED_FOR,
}))
"""


def probe(env, settings, host=HOST):
    result = run(["-c", "import sys\n" + PROBE, host], env, settings=settings)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_prod_serves_the_security_headers_and_shares_its_counters(prod_env):
    seen = probe(prod_env, "config.settings.prod")
    assert seen["status"] == 200
    headers = seen["headers"]
    assert "script-src 'self';" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Workers are separate processes: their counters live in files they all see.
    assert seen["throttle"]["BACKEND"] == "config.cache.ThrottleCache"
    assert seen["throttle"]["LOCATION"] == str(Path(seen["data_dir"]) / "throttle")
    assert (seen["search_rate"], seen["login_rate"], seen["trust_xff"]) == ("60/60", "5/900", False)


def test_limits_are_set_from_the_environment(prod_env):
    env = {
        **prod_env,
        "ARCHIVE_SEARCH_RATE": "0",
        "ARCHIVE_LOGIN_RATE": "10/600",
        "ARCHIVE_TRUST_X_FORWARDED_FOR": "1",
    }
    seen = probe(env, "config.settings.prod")
    assert (seen["search_rate"], seen["login_rate"], seen["trust_xff"]) == ("0", "10/600", True)


def test_dev_has_the_same_headers(tmp_path):
    seen = probe({"ARCHIVE_DATA_DIR": str(tmp_path)}, "config.settings.dev", host="localhost")
    assert seen["status"] == 200
    assert "script-src 'self';" in seen["headers"]["Content-Security-Policy"]
    assert seen["headers"]["Permissions-Policy"].startswith("accelerometer=()")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with direct.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def runserver(tmp_path):
    """`manage.py runserver` with the development settings, as `make run` starts it."""
    servers = []

    def start(**env):
        port = free_port()
        env = {"ARCHIVE_DATA_DIR": str(tmp_path), **env}
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARCHIVE_"))}
            | env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(server)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):  # until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return base
            except OSError:
                assert server.poll() is None, "runserver exited"
                time.sleep(0.1)
        pytest.fail("runserver never listened")

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def test_make_run_serves_the_archive_s_own_404_and_its_static_files(runserver):
    base = runserver()
    status, page = get(f"{base}/no-such-page/")
    assert status == 404
    assert "未找到页面" in page and "URLconf" not in page
    status, css = get(f"{base}/static/css/site.css")
    assert status == 200 and css


def test_the_debug_page_is_there_for_developers_who_ask(runserver):
    status, page = get(f"{runserver(DJANGO_DEBUG='1')}/no-such-page/")
    assert status == 404
    assert "Using the URLconf defined in" in page


@pytest.mark.parametrize(
    "args, expected",
    [
        ([], "DJANGO_DEBUG=0 .venv/bin/python manage.py runserver 127.0.0.1:8000"),
        (["DEBUG=1"], "DJANGO_DEBUG=1 .venv/bin/python manage.py runserver 127.0.0.1:8000"),
        (["HOST=0.0.0.0:8080"], "DJANGO_DEBUG=0 .venv/bin/python manage.py runserver 0.0.0.0:8080"),
    ],
)
def test_make_run_passes_debug_and_host(args, expected):
    make = shutil.which("make")
    if not make:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "HOST")}
    result = subprocess.run(
        [make, "-n", "run", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
