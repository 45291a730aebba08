"""A transcript full of markup, imported through the admin, is inert on every page that shows it.

Each page is checked twice: as text (the raw hostile tags never appear, their escaped form
does) and as parsed HTML (no script with hostile content, no on* attribute, no javascript: URL).
"""

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from speeches.models import SourceFile, Speech
from speeches.tests.factories import review_data, upload

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = '<a href="javascript:alert(1)">点我</a>'
BARE = "javascript:alert(1)"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
TITLE = f"{SCRIPT}轴承讲话{IMG}"
SPEAKER = f"{IMG}张三"
EVENT = f"{SCRIPT}轴承峰会"
FILENAME = f"{IMG}.txt"
PARAGRAPHS = [
    "各位来宾：",
    f"轴承产业{SCRIPT}迎来新机遇。",
    f"新质生产力{IMG}推动轴承发展。",
    f"请访问{LINK}或者 {BARE} 了解轴承。",
]
TRANSCRIPT = "\n\n".join(PARAGRAPHS).encode()
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}
# Browsers ignore whitespace and control characters inside a URL's scheme.
URL_NOISE = re.compile(r"[\x00-\x20]")


class _Inspector(HTMLParser):
    """Collects every way the parsed page could run the transcript's markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems, self.scripts, self._in_script = [], 0, False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in URL_ATTRIBUTES and URL_NOISE.sub("", value or "").lower().startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and ("src", "x") in attrs:
            self.problems.append("<img src=x>")
        if tag == "script":
            self.scripts += 1
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and ("alert(" in data or "点我" in data):
            self.problems.append(f"script holding {data[:60]!r}")


def assert_inert(text, *, where, shown=True):
    """`text` is a whole response body; `shown`: the transcript's text is expected in it."""
    assert "<script>alert(1)" not in text, where
    assert "<img src=x onerror" not in text, where
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", text, re.I), where
    if shown:
        assert "&lt;script&gt;" in text or "&lt;img src=x onerror" in text, where
    inspector = _Inspector()
    inspector.feed(text)
    inspector.close()
    assert inspector.problems == [], where


@pytest.mark.parametrize(
    "html",
    [
        f"<p>&lt;script&gt; {SCRIPT}</p>",
        f"<p>&lt;script&gt; {IMG}</p>",
        "<p>&lt;script&gt;</p><a href='javascript:alert(1)'>x</a>",
        '<p>&lt;script&gt;</p><a href=" jav&#x09;ascript&#58;alert(1)">x</a>',
        '<p>&lt;script&gt;</p><svg onload="alert(1)"></svg>',
        "<p>&lt;script&gt;</p><script >alert(1)</script >",
    ],
)
def test_the_check_catches_live_markup(html):
    with pytest.raises(AssertionError):
        assert_inert(html, where="a page with live markup")


@pytest.fixture
def hostile(boss, search_index):
    """The transcript imported and published through the admin, with hostile metadata too."""
    from search.queue import drain

    preview = upload(boss, TRANSCRIPT, FILENAME)
    assert preview.status_code == 200
    data = review_data(
        preview,
        title=TITLE,
        speaker=SPEAKER,
        event=EVENT,
        organization=f"{IMG}协会",
        position=f"{SCRIPT}理事长",
        date="2024-05-01",
        kind="讲话",
        _publish="1",
    )
    response = boss.post(reverse("admin:speeches_speech_import_save"), data, follow=True)
    assert response.status_code == 200
    assert_inert(response.content.decode(), where="admin page after saving")
    drain()
    speech = Speech.objects.get()
    assert speech.is_published and speech.title == TITLE
    assert [p.text for p in speech.paragraphs.all()] == PARAGRAPHS
    return speech


def test_the_import_preview_shows_the_transcript_inert(boss):
    response = upload(boss, TRANSCRIPT, FILENAME)
    assert response.status_code == 200
    page = response.content.decode()
    assert_inert(page, where="import preview")
    assert ESCAPED_SCRIPT in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;点我&lt;/a&gt;" in page
    # The file name (kept for the record) is markup as well.
    assert SourceFile.objects.count() == 0 and 'value="&lt;img src=x onerror' in page


def test_public_pages_show_it_inert(hostile, client):
    speech = hostile
    pages = [
        speech.get_absolute_url(),
        reverse("speeches:home"),
        reverse("speeches:list"),
        speech.speaker.get_absolute_url(),
        speech.event.get_absolute_url(),
        speech.organization.get_absolute_url(),
        reverse("speeches:year", args=[2024]),
        reverse("speeches:people"),
        reverse("speeches:events"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode(), where=url)
    page = client.get(speech.get_absolute_url()).content.decode()
    assert page.count(ESCAPED_SCRIPT) >= 3  # title, body, citation
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;点我&lt;/a&gt;" in page
    assert f"或者 {BARE} 了解轴承" in page


def test_search_snippets_mark_words_beside_hostile_text_inert(hostile, client):
    for q in ["轴承", "新质生产力", "了解", "script", "alert", "onerror"]:
        response = client.get(reverse("search:search"), {"q": q})
        page = response.content.decode()
        assert_inert(page, where=f"search {q}")
        assert response.context["outcome"].count == 1, q
        assert "<mark>" in page, q
    page = client.get(reverse("search:search"), {"q": "轴承"}).content.decode()
    assert f"<mark>轴承</mark>产业{ESCAPED_SCRIPT}" in page


@pytest.mark.parametrize("q", [SCRIPT, IMG, LINK, f'"{SCRIPT}" speaker:{IMG}'])
def test_a_hostile_query_is_reflected_inert(hostile, client, q):
    response = client.get(reverse("search:search"), {"q": q})
    assert response.status_code == 200
    assert_inert(response.content.decode(), where=f"search page for {q}")
    api = client.get(reverse("search:api"), {"q": q})
    assert api["Content-Type"] == "application/json"
    assert api["X-Content-Type-Options"] == "nosniff"
    assert api.json()["query"] == q


def test_json_is_data_served_as_json(hostile, client):
    speech = hostile
    detail = client.get(reverse("speeches:api_speech", args=[speech.pk]))
    listing = client.get(reverse("speeches:api_list"))
    found = client.get(reverse("search:api"), {"q": "轴承"})
    for response in (detail, listing, found):
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"
    data = detail.json()
    # The API gives the text as it is: escaping is the job of whatever displays it.
    assert data["title"] == TITLE and data["speaker"]["name"] == SPEAKER
    assert data["paragraphs"] == PARAGRAPHS
    assert listing.json()["results"][0]["event"]["name"] == EVENT
    snippets = [s["html"] for hit in found.json()["results"] for s in hit["snippets"]]
    assert snippets and all("<mark>" in html for html in snippets)
    for html in snippets:
        assert_inert(html, where="search API snippet", shown=False)
    assert any(ESCAPED_SCRIPT in html for html in snippets)
    assert json.loads(found.content)["results"][0]["title"] == TITLE


@pytest.mark.parametrize("name", ["feed_rss", "feed_atom"])
def test_feeds_escape_it(hostile, client, name):
    response = client.get(reverse(f"speeches:{name}"))
    text = response.content.decode()
    assert "<script" not in text and "<img" not in text and "<a " not in text
    root = ET.fromstring(response.content)
    entries = root.findall("channel/item") + root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1
    entry = entries[0]
    fields = {child.tag.split("}")[-1]: child.text for child in entry}
    # The title is plain text (XML-escaped on the wire); the description is HTML for the
    # reader to render, so the transcript's markup in it is escaped once more.
    assert fields["title"] == TITLE
    description = fields.get("description") or fields["summary"]
    assert "<script" not in description and "<img" not in description
    assert ESCAPED_SCRIPT in description and "&lt;img src=x onerror=alert(1)&gt;张三" in description
    assert_inert(description, where=name)


def test_admin_pages_show_it_inert(hostile, boss):
    speech = hostile
    source = SourceFile.objects.get()
    assert source.original_name == FILENAME
    pages = [
        reverse("admin:speeches_speech_change", args=[speech.pk]),
        reverse("admin:speeches_speech_changelist"),
        reverse("admin:speeches_speech_changelist") + "?q=轴承",
        reverse("admin:speeches_person_change", args=[speech.speaker.pk]),
        reverse("admin:speeches_person_changelist"),
        reverse("admin:speeches_event_changelist"),
        reverse("admin:speeches_paragraph_changelist"),
        reverse("admin:speeches_sourcefile_changelist"),
        reverse("admin:speeches_sourcefile_change", args=[source.pk]),
        reverse("admin:speeches_speech_history", args=[speech.pk]),
    ]
    for url in pages:
        response = boss.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode(), where=url)
    change = boss.get(pages[0]).content.decode()
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;点我&lt;/a&gt;" in change


# -- downloads and the feeds of one record or one search ------------------------------------


def _markdown_html(content):
    from markdown_it import MarkdownIt

    # CommonMark as GitHub and most viewers render it: raw HTML in the text would be passed on.
    return MarkdownIt("commonmark").render(content.decode())


def test_downloads_are_attachments_with_the_text_inert_for_their_readers(hostile, client):
    import io

    import bibtexparser
    import docx
    from bibtexparser.middlewares import LatexDecodingMiddleware

    speech = hostile
    names = ["cite_bib", "cite_ris", "export_txt", "export_md", "export_docx"]
    got = {}
    for name in names:
        response = client.get(reverse(f"speeches:{name}", args=[speech.pk]))
        assert response.status_code == 200, name
        assert response["Content-Disposition"].startswith("attachment;"), name
        assert "<" not in response["Content-Disposition"], name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert "html" not in response["Content-Type"], name
        got[name] = response.content
    # Markdown escapes it: rendered, it is text again.
    html = _markdown_html(got["export_md"])
    assert_inert(html, where="the .md rendered")
    assert f"轴承产业{ESCAPED_SCRIPT}迎来新机遇。" in html
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;点我&lt;/a&gt;" in html
    # Word, BibTeX and RIS hold it as text, each in its own escaping.
    document = docx.Document(io.BytesIO(got["export_docx"]))
    assert document.paragraphs[0].text == TITLE
    assert [p.text.split("\t", 1)[-1] for p in document.paragraphs[-5:-1]] == PARAGRAPHS
    entry = bibtexparser.parse_string(
        got["cite_bib"].decode(), append_middleware=[LatexDecodingMiddleware()]
    ).entries[0]
    assert entry.fields_dict["title"].value == TITLE
    assert entry.fields_dict["author"].value == SPEAKER
    ris = dict(line.split("  - ", 1) for line in got["cite_ris"].decode().split("\r\n")[:-2])
    assert (ris["TI"], ris["AU"], ris["T2"]) == (TITLE, SPEAKER, EVENT)
    # Plain text is the text itself: a text viewer shows it as it is.
    assert got["export_txt"].decode().split("\n\n")[1:5] == PARAGRAPHS


def _feed_urls(speech):
    return [
        reverse("speeches:feed_person", args=[speech.speaker.pk]),
        reverse("speeches:feed_event", args=[speech.event.pk]),
        reverse("speeches:feed_organization", args=[speech.organization.pk]),
        reverse("search:feed") + "?q=轴承",
    ]


def test_record_and_search_feeds_escape_it(hostile, client):
    for url in _feed_urls(hostile):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "<script" not in text and "<img" not in text and "<a " not in text, url
        entry = ET.fromstring(response.content).find("{http://www.w3.org/2005/Atom}entry")
        fields = {child.tag.split("}")[-1]: child.text for child in entry}
        assert fields["title"] == TITLE, url
        summary = fields["summary"]
        assert "&lt;img src=x onerror=alert(1)&gt;张三" in summary, url
        assert ESCAPED_SCRIPT in summary, url
        assert_inert(summary, where=url)


@pytest.mark.parametrize("q", [SCRIPT, IMG, LINK])
def test_a_hostile_query_names_the_search_feed_inert(hostile, client, q):
    response = client.get(reverse("search:feed"), {"q": q})
    assert response.status_code == 200
    assert "<script" not in response.content.decode() and "<img" not in response.content.decode()
    title = ET.fromstring(response.content).findtext("{http://www.w3.org/2005/Atom}title")
    assert title == f"讲稿库 · 检索“{q}”"
