"""The English interface: chosen by Accept-Language or the footer's switch, Chinese by default,
every string of the source translated, the transcripts left in Chinese."""

import ast
import os
import re
import shutil
import subprocess
import sys
import zlib

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from conftest import ROOT, need
from speeches import pages
from speeches.models import RenderedPage

from .factories import make_speech

pytestmark = pytest.mark.django_db

PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)")
SEED_TITLE = "发展新质生产力与轴承产业新机遇"
SEED_OPENING = "各位来宾，各位朋友："


def po_entries(path):
    """(flags, {field: text}) of each entry of a .po file, the header and obsolete ones left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields, key = {}, None
        for line in lines:
            if line.startswith("#"):
                continue
            if not line.startswith('"'):
                key, line = line.split(" ", 1)
                fields[key] = ""
            fields[key] += ast.literal_eval(line)
        if fields.get("msgid"):
            entries.append((flags, fields))
    return entries


def untranslated(entries):
    return [
        fields["msgid"]
        for flags, fields in entries
        if "fuzzy" in flags
        or not all(text for key, text in fields.items() if key.startswith("msgstr"))
    ]


def in_english(path="/", **headers):
    response = Client(HTTP_ACCEPT_LANGUAGE="en", **headers).get(path)
    return response, response.content.decode()


# -- the translations ------------------------------------------------------------------------


def test_every_msgid_has_an_english_translation_with_its_placeholders():
    entries = po_entries(PO)
    assert len(entries) > 300
    assert untranslated(entries) == []
    assert "#~" not in PO.read_text(encoding="utf-8")  # no obsolete strings left behind
    for _flags, fields in entries:
        wanted = sorted(PLACEHOLDER.findall(fields["msgid"]))
        for key, text in fields.items():
            if key.startswith("msgstr"):
                assert sorted(PLACEHOLDER.findall(text)) == wanted, fields["msgid"]


def test_every_string_in_the_source_is_in_the_po(tmp_path):
    """makemessages run afresh on the source finds nothing the committed .po lacks."""
    need(shutil.which("xgettext"), "gettext's xgettext is not installed (apt-get install gettext)")
    for folder in ("config", "search", "speeches", "templates", "locale"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.mo"))
    # Without settings, so that it reads and writes the copy's locale/ only.
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "en", "--add-location", "file"],
        cwd=tmp_path,
        env=environment,
        check=True,
        capture_output=True,
    )
    fresh = po_entries(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po")
    assert untranslated(fresh) == [], "run makemessages and translate these (see README)"


# -- which language a reader gets ------------------------------------------------------------


def test_accept_language_en_gives_english_pages(english_ui, seed):
    response, home = in_english("/")
    assert '<html lang="en">' in home
    assert "Latest speeches" in home and "讲稿库" not in home
    assert response["Content-Language"] == "en"
    _response, listing = in_english(reverse("speeches:list"))
    assert "<h1>Speeches</h1>" in listing and "1 speech" in listing
    response, missing = in_english("/speeches/999999/")
    assert response.status_code == 404
    assert "Page not found" in missing and '<html lang="en">' in missing


def test_chinese_stays_the_default(english_ui, seed):
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "fr"}, {"HTTP_ACCEPT_LANGUAGE": "zh-CN,en;q=0.8"}):
        page = Client(**headers).get("/").content.decode()
        assert '<html lang="zh-hans">' in page, headers
        assert "最新讲稿" in page and "Latest speeches" not in page, headers


def test_cached_pages_are_kept_per_language(english_ui, seed):
    chinese = Client().get("/").content.decode()
    assert "最新讲稿" in chinese
    assert "Latest speeches" in in_english("/")[1]
    assert Client().get("/").content.decode() == chinese


def test_the_address_page_is_english_around_a_chinese_transcript(english_ui, seed):
    _response, page = in_english(seed.get_absolute_url())
    assert '<html lang="en">' in page
    for label in ("<dt>Speaker</dt>", "<dt>Date</dt>", "<dt>Type</dt>", "Citation", "Speakers"):
        assert label in page, label
    assert '<span class="kind">Address</span>' not in page  # the page, not a card
    assert f"{SEED_TITLE} · Speech Archive</title>" in page
    assert SEED_OPENING in page and "<dd>Address</dd>" in page


def test_english_readers_get_the_stored_english_page(english_ui, seed):
    call_command("render_pages", verbosity=0)
    assert list(RenderedPage.objects.values_list("speech", "language")) == [
        (seed.pk, "en"),
        (seed.pk, "zh-hans"),
    ]
    stored = zlib.decompress(RenderedPage.objects.get(language="en").compressed_html)
    assert b'<html lang="en">' in stored and SEED_OPENING.encode() in stored
    for language, marker in (("en", "STORED-EN"), ("zh-hans", "STORED-ZH")):
        row = RenderedPage.objects.get(language=language)
        row.compressed_html = pages.compress(marker)
        row.save(update_fields=["compressed_html"])
    assert in_english(seed.get_absolute_url())[1] == "STORED-EN"
    assert Client().get(seed.get_absolute_url()).content.decode() == "STORED-ZH"


def test_search_results_in_english(english_ui, search_index):
    from search.queue import drain

    make_speech(
        title="轴承年会致辞", speaker="李四", kind="致辞", paragraphs=("轴承产业的新机遇。",)
    )
    drain()
    _response, page = in_english(reverse("search:search") + "?q=轴承")
    assert '<html lang="en">' in page
    assert "1 speech" in page and "Search" in page
    assert "轴承年会致辞" in page and "<mark>轴承</mark>" in page
    assert '<span class="kind">Address</span>' in page


# -- the footer's switch ---------------------------------------------------------------------


def test_the_footer_switch_sets_the_language_and_the_next_page_is_english(english_ui, seed):
    reader = Client(enforce_csrf_checks=True)
    listing = reader.get(reverse("speeches:list")).content.decode()
    form = re.search(r'<form class="language-switch" action="([^"]+)" method="post"', listing)
    assert form and 'name="language" value="en"' in listing
    back_to = "http://testserver" + reverse("speeches:list") + "?year=2024"
    response = reader.post(form.group(1), {"language": "en"}, HTTP_REFERER=back_to)
    assert response.status_code == 302 and response["Location"] == back_to
    assert reader.cookies["django_language"].value == "en"
    page = reader.get(reverse("speeches:list"), {"year": "2024"}).content.decode()
    assert '<html lang="en">' in page and "<h1>Speeches</h1>" in page
    assert 'name="language" value="zh-hans"' in page  # and back to Chinese from there
    reader.post(form.group(1), {"language": "zh-hans"}, HTTP_REFERER=back_to)
    assert '<html lang="zh-hans">' in reader.get(reverse("speeches:list")).content.decode()


def test_the_switch_needs_no_script_and_keeps_the_csp(english_ui, seed):
    response, page = in_english("/")
    footer = page.split('<footer class="site-footer">', 1)[1]
    assert not re.search(r"<script|\son\w+=", footer)
    assert "script-src 'self'" in response["Content-Security-Policy"]
