"""Project-wide fixtures: where the shared corpus is, and whether a browser exists.

Locally, tests that need the corpus or a browser skip and say why. In CI
(CI=true) the same absence is a failure, so a broken set-up cannot pass green.
"""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
CORPUS_DIR = Path(os.environ.get("ARCHIVE_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
SEED_FILE = ROOT.parent / "shared" / "seeds" / "000_13569e6f98d268da.txt"
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition, why):
    """Skip locally, fail in CI, when a test's outside requirement is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI needs this, but: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def corpus_dir():
    need((CORPUS_DIR / "speeches" / "index.tsv").exists(), f"corpus not found at {CORPUS_DIR}")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def seed_path():
    need(SEED_FILE.exists(), f"seed transcript not found at {SEED_FILE}")
    return SEED_FILE


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's Chromium, which Playwright drives (no `playwright install` download)."""
    debian = Path("/usr/bin/chromium")
    browser = str(debian) if debian.exists() else shutil.which("chromium")
    need(browser, "Debian's chromium is not installed (apt-get install chromium)")
    return browser


@pytest.fixture(scope="session")
def english_ui():
    """The English interface, as `make setup` compiles it (compilemessages, gettext's msgfmt)."""
    po = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    need(
        mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime,
        f"{mo} is missing or older than its .po: run `make setup` (needs gettext's msgfmt)",
    )


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, tmp_path):
    """Uploads, cached pages and rate counters of one test never leak into another's."""
    from django.core.cache import caches

    settings.MEDIA_ROOT = tmp_path / "uploads"
    for alias in ("default", "throttle"):
        caches[alias].clear()


def point_index_at(path):
    from haystack import connections

    connections.connections_info["default"]["PATH"] = str(path)
    return connections.reload("default")


@pytest.fixture
def search_index(tmp_path):
    """An empty index of this test's own. haystack opens its backend per thread from
    connections_info, so a live server's threads search this index too."""
    from haystack import connections

    old = connections.connections_info["default"]["PATH"]
    point_index_at(tmp_path / "whoosh_index")
    yield
    point_index_at(old)
