"""A real Chinese PDF (embedded CJK font, as staff get from a PDF export) imports to the fixture
record. Chromium prints the raw seed transcript, line for line, to a PDF."""

import html
import shutil
import subprocess

import pytest

from conftest import need
from speeches import services

from .test_import_service import assert_is_the_fixture_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _cjk_font_family():
    """The first installed font family with Chinese glyphs, or None."""
    if not shutil.which("fc-list"):
        return None
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    families = [line.split(",")[0].strip() for line in found.stdout.splitlines() if line.strip()]
    return sorted(families)[0] if families else None


@pytest.fixture(scope="module")
def seed_pdf(seed_path, chromium_path, tmp_path_factory):
    family = _cjk_font_family()
    need(family, "no CJK font for Chromium to embed (apt-get install fonts-wqy-microhei)")
    folder = tmp_path_factory.mktemp("pdf")
    lines = seed_path.read_text(encoding="utf-8").splitlines()
    page = folder / "seed.html"
    page.write_text(
        # One font for every character, as in a PDF exported from a Chinese word processor.
        f"<!doctype html><meta charset=utf-8><style>body{{width:15cm;font-family:'{family}'}}</style>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines),
        encoding="utf-8",
    )
    pdf = folder / "seed.pdf"
    subprocess.run(
        [
            chromium_path,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={folder / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"FontFile" in data, "the PDF should embed its font"
    return data


def test_a_chinese_pdf_of_the_seed_imports_to_the_fixture_record(seed_pdf):
    result = services.import_transcript(data=seed_pdf, filename="卷首语.pdf")
    assert result.source_file.encoding == "pdf"
    assert_is_the_fixture_record(result.speech)
    assert result.source_file.size == len(seed_pdf)
