"""A real Chinese PDF (embedded CJK font, as staff get from a PDF export) imports to the fixture
record. Chromium prints the raw seed transcript, line for line, to a PDF."""

import html
import io
import shutil
import subprocess

import pypdf
import pytest

from conftest import need
from speeches import services

from .test_import_service import assert_is_the_fixture_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _cjk_font_families():
    """One installed font family with Chinese glyphs per font project (WenQuanYi, Noto …).

    Their PDFs differ: WenQuanYi's embeds a TrueType font, Noto CJK's becomes Type 3 glyphs whose
    text layer names shared glyphs by their Kangxi radicals (⻓ for 长). Each must import alike.
    """
    if not shutil.which("fc-list"):
        return []
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    families = sorted(
        {line.split(",")[0].strip() for line in found.stdout.splitlines() if line.strip()}
    )
    by_project = {}
    for family in families:
        by_project.setdefault(family.split()[0], family)
    return sorted(by_project.values())


def _print_to_pdf(chromium, lines, family, folder):
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
            chromium,
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
    return pdf.read_bytes()


def _has_embedded_glyphs(data):
    fonts = pypdf.PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values()
    for font in (f.get_object() for f in fonts):
        if font["/Subtype"] == "/Type3":
            return True
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get_object()["/FontDescriptor"]
            if {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()):
                return True
    return False


@pytest.fixture(scope="module", params=_cjk_font_families() or [None])
def seed_pdf(request, seed_path, chromium_path, tmp_path_factory):
    family = request.param
    need(family, "no CJK font for Chromium to embed (apt-get install fonts-wqy-microhei)")
    lines = seed_path.read_text(encoding="utf-8").splitlines()
    data = _print_to_pdf(chromium_path, lines, family, tmp_path_factory.mktemp("pdf"))
    assert data.startswith(b"%PDF") and _has_embedded_glyphs(data), "the PDF should embed its font"
    return data


def test_a_chinese_pdf_of_the_seed_imports_to_the_fixture_record(seed_pdf):
    result = services.import_transcript(data=seed_pdf, filename="卷首语.pdf")
    assert result.source_file.encoding == "pdf"
    assert_is_the_fixture_record(result.speech)
    assert result.source_file.size == len(seed_pdf)
