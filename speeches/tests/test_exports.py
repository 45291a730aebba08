"""Citing and exporting an address: the GB/T 7714 line on its page, and the downloads (BibTeX, RIS,
.txt, .md, .docx) read back by the programs that read them."""

import datetime
import io
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import bibtexparser
import docx
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware
from django.test import Client
from django.urls import reverse
from markdown_it import MarkdownIt

from speeches import exports, services
from speeches.models import DatePrecision, Paragraph, RenderedPage

from .factories import make_speech, make_staff

pytestmark = pytest.mark.django_db

SEED_CITATION = (
    "周宇. 发展新质生产力与轴承产业新机遇: 2024 上海国际轴承峰会致辞[R/OL]. "
    "2024 上海国际轴承峰会, 2024. http://testserver/speeches/{pk}/."
)
DOWNLOADS = ["cite_bib", "cite_ris", "export_txt", "export_md", "export_docx"]
RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  - (.*)$")


def download(client, name, speech, **headers):
    response = client.get(reverse(f"speeches:{name}", args=[speech.pk]), **headers)
    assert response.status_code == 200, name
    return response


def bib_fields(content):
    library = bibtexparser.parse_string(
        content.decode(), append_middleware=[LatexDecodingMiddleware()]
    )
    assert library.failed_blocks == [] and len(library.entries) == 1
    entry = library.entries[0]
    return entry, {field.key: field.value for field in entry.fields}


def ris_fields(content):
    lines = content.decode().split("\r\n")
    assert lines[-2:] == ["ER  - ", ""], lines[-2:]
    fields = {}
    for line in lines[:-2]:
        tag, value = RIS_LINE.match(line).groups()
        fields.setdefault(tag, []).append(value)
    return fields


class _Blocks(HTMLParser):
    """(tag, text) of each block of rendered Markdown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks, self.tag = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "p", "hr"):
            self.tag = tag
            self.blocks.append([tag, ""])

    def handle_data(self, data):
        if self.blocks and self.tag:
            self.blocks[-1][1] += data

    def handle_endtag(self, tag):
        self.tag = None


def markdown_blocks(content):
    parser = _Blocks()
    parser.feed(MarkdownIt("commonmark").render(content.decode()))
    return [tuple(block) for block in parser.blocks]


# -- the citation on the page -----------------------------------------------------------------


def test_the_page_cites_the_address_in_gbt_7714_with_its_absolute_url(client, seed):
    page = client.get(seed.get_absolute_url()).content.decode()
    assert f'<span id="citation">{SEED_CITATION.format(pk=seed.pk)}</span>' in page
    # The copy button waits for the script (a page without it has nothing to press).
    assert re.search(
        r'<button type="button" class="copy-button" data-copy-from="citation"[^>]* hidden>', page
    )
    for name in DOWNLOADS:
        assert f'href="{reverse(f"speeches:{name}", args=[seed.pk])}" download' in page


def test_the_stored_page_cites_the_host_the_reader_asked(django_capture_on_commit_callbacks, seed):
    with django_capture_on_commit_callbacks(execute=True):
        services.touch(speech=seed)
    assert RenderedPage.objects.filter(speech=seed).exists()
    page = Client(HTTP_HOST="archive.example.org").get(seed.get_absolute_url()).content.decode()
    assert (
        SEED_CITATION.format(pk=seed.pk).replace("http://testserver", "http://archive.example.org")
        in page
    )


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, "张三. 讲稿[R/OL]. 2023-05-01. {url}."),
        ({"speaker": None, "date": None}, "讲稿[R/OL]. {url}."),
        ({"column": "卷首语", "precision": DatePrecision.MONTH, "date": datetime.date(2023, 5, 1)},
         "张三. 讲稿[R/OL]. 卷首语, 2023-05. {url}."),
        ({"event": "某论坛", "column": "卷首语", "subtitle": "在某论坛上的讲话"},
         "张三. 讲稿: 在某论坛上的讲话[R/OL]. 某论坛, 2023-05-01. {url}."),
    ],
)  # fmt: skip
def test_the_citation_leaves_out_what_is_unknown(db, fields, expected):
    speech = make_speech(title="讲稿", **fields)
    url = f"https://archive.example.org/speeches/{speech.pk}/"
    assert exports.citation(speech, url=url) == expected.format(url=url)


# -- the downloads ----------------------------------------------------------------------------


def test_bibtex_is_read_back_with_every_field(client, seed):
    response = download(client, "cite_bib", seed)
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=utf-8''")[1]) == f"{seed.title}.bib"
    entry, fields = bib_fields(response.content)
    assert (entry.entry_type, entry.key) == ("misc", f"speech{seed.pk}")
    assert fields == {
        "author": "周宇",
        "title": "发展新质生产力与轴承产业新机遇: 2024 上海国际轴承峰会致辞",
        "howpublished": "2024 上海国际轴承峰会",
        "date": "2024",
        "year": "2024",
        "url": f"http://testserver/speeches/{seed.pk}/",
        "langid": "chinese",
    }


def test_bibtex_special_characters_stay_text(client, db):
    # A title that would close its field and open another, and every character TeX reads.
    # (^ is left out: LaTeX prints \textasciicircum as ^, the decoder as a modifier letter ˆ.)
    title = r"轴承}, note = {注入 \ % & # _ ~ $ {括号}"
    speech = make_speech(
        title=title, speaker="张三 and 李四, 王五", date=datetime.date(2024, 11, 20)
    )
    _entry, fields = bib_fields(download(client, "cite_bib", speech).content)
    assert fields["title"] == title and "note" not in fields
    assert fields["author"] == "张三 and 李四, 王五"
    assert (fields["year"], fields["month"], fields["date"]) == ("2024", "11", "2024-11-20")


def test_ris_is_read_back_with_every_field(client, seed):
    response = download(client, "cite_ris", seed)
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert ris_fields(response.content) == {
        "TY": ["RPRT"],
        "AU": ["周宇"],
        "TI": ["发展新质生产力与轴承产业新机遇: 2024 上海国际轴承峰会致辞"],
        "T2": ["2024 上海国际轴承峰会"],
        "PY": ["2024"],
        "DA": ["2024///"],
        "M3": ["致辞"],
        "UR": [f"http://testserver/speeches/{seed.pk}/"],
        "LA": ["zh"],
        "DB": ["讲稿库"],
    }


def test_a_line_break_in_a_field_cannot_start_a_ris_field(client, db):
    speech = make_speech(title="轴承\r\nER  - \nTY  - JOUR", date=datetime.date(2024, 11, 20))
    fields = ris_fields(download(client, "cite_ris", speech).content)
    assert fields["TI"] == ["轴承 ER - TY - JOUR"] and fields["TY"] == ["RPRT"]
    assert fields["DA"] == ["2024/11/20/"]


def test_the_text_is_the_header_the_paragraphs_and_the_citation(client, seed):
    response = download(client, "export_txt", seed)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    blocks = response.content.decode().removesuffix("\n").split("\n\n")
    paragraphs = [p.text for p in seed.paragraphs.all()]
    assert blocks[0] == (
        "发展新质生产力与轴承产业新机遇\n——2024 上海国际轴承峰会致辞\n"
        "周宇（中国轴承工业协会理事长） · 2024 上海国际轴承峰会 · 2024年"
    )
    assert blocks[1:-1] == paragraphs and len(paragraphs) == 8
    assert blocks[-1] == "引用：" + SEED_CITATION.format(pk=seed.pk)


def test_markdown_renders_to_the_paragraphs_as_they_are(client, seed):
    response = download(client, "export_md", seed)
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    blocks = markdown_blocks(response.content)
    assert blocks == [
        ("h1", seed.title),
        ("p", "——2024 上海国际轴承峰会致辞"),
        ("p", "周宇（中国轴承工业协会理事长） · 2024 上海国际轴承峰会 · 2024年"),
        *[("p", p.text) for p in seed.paragraphs.all()],
        ("hr", ""),
        ("p", "引用：" + SEED_CITATION.format(pk=seed.pk)),
    ]


def test_markdown_syntax_in_the_text_stays_text(client, db):
    paragraphs = [
        "1. 第一条", "2) 第二条", "- 不是列表", "+ 也不是", "# 不是标题 #", "---", "===",
        "**不加粗** a_b_c `不是代码`", "[链接](javascript:alert(1))", "<b>标签</b> &amp; &lt;",
        "~~不删除~~ | 不是表格 |", "反斜杠 \\* 留着", "<http://example.org>",
    ]  # fmt: skip
    speech = make_speech(title="*标题* [1]", speaker=None, date=None, paragraphs=paragraphs)
    Paragraph.objects.filter(speech=speech, position=2).update(is_heading=True)
    blocks = markdown_blocks(download(client, "export_md", speech).content)
    texts = [("h2" if n == 2 else "p", text) for n, text in enumerate(paragraphs, 1)]
    assert blocks[0] == ("h1", "*标题* [1]") and blocks[1:-2] == texts


def test_the_docx_has_title_byline_date_and_numbered_paragraphs(client, seed):
    response = download(client, "export_docx", seed)
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert unquote(response["Content-Disposition"].split("''")[1]) == f"{seed.title}.docx"
    document = docx.Document(io.BytesIO(response.content))
    blocks = [(p.style.name, p.text) for p in document.paragraphs]
    paragraphs = [p.text for p in seed.paragraphs.all()]
    assert blocks == [
        ("Title", seed.title),
        ("Subtitle", "——2024 上海国际轴承峰会致辞"),
        ("Normal", "周宇（中国轴承工业协会理事长）"),
        ("Normal", "2024 上海国际轴承峰会"),
        ("Normal", "2024年"),
        *[("Normal", f"{n}\t{text}") for n, text in enumerate(paragraphs, 1)],
        ("Normal", "引用：" + SEED_CITATION.format(pk=seed.pk)),
    ]
    assert document.core_properties.title == seed.title
    assert document.core_properties.author == "周宇"
    assert document.core_properties.identifier == f"http://testserver/speeches/{seed.pk}/"


def test_the_docx_numbers_headings_as_their_anchors_and_drops_control_characters(client, db):
    speech = make_speech(paragraphs=["一、总体要求", "正文\x0b第一段\x01。", "二、重点任务"])
    Paragraph.objects.filter(speech=speech, position__in=[1, 3]).update(is_heading=True)
    document = docx.Document(io.BytesIO(download(client, "export_docx", speech).content))
    numbered = [(p.style.name, p.text) for p in document.paragraphs if "\t" in p.text]
    assert numbered == [
        ("Heading 2", "1\t一、总体要求"),
        ("Normal", "2\t正文第一段。"),
        ("Heading 2", "3\t二、重点任务"),
    ]


def test_a_title_that_is_no_file_name_gives_one(client, db):
    speech = make_speech(title='../<*>:"|?')
    response = download(client, "export_txt", speech)
    assert response["Content-Disposition"] == f'attachment; filename="speech-{speech.pk}.txt"'


# -- drafts, unknown ids, limits -----------------------------------------------------------------


def test_drafts_are_404_for_readers_and_fresh_for_staff_who_may_view_them(client, db):
    draft = make_speech(title="尚未发布的讲话", status="draft")
    viewer, outsider = Client(), Client()
    viewer.force_login(make_staff("viewer", "view_speech"))
    outsider.force_login(make_staff("outsider"))
    for name in DOWNLOADS:
        url = reverse(f"speeches:{name}", args=[draft.pk])
        for who in (client, outsider):
            response = who.get(url)
            assert response.status_code == 404, url
            assert "未找到页面" in response.content.decode()
            assert "尚未发布的讲话" not in response.content.decode()
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "尚未发布的讲话" in viewer.get(f"/speeches/{draft.pk}.txt").content.decode()


@pytest.mark.parametrize("path", ["/speeches/999999.txt", "/speeches/999999/cite.bib",
                                  "/speeches/99999999999999999999999.docx", "/speeches/1.pdf",
                                  "/speeches/abc.md", "/speeches/1/cite.xml"])  # fmt: skip
def test_unknown_addresses_and_formats_are_404_pages(client, seed, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "未找到页面" in response.content.decode()


def test_downloads_are_rate_limited_with_search(client, seed, settings):
    settings.ARCHIVE_SEARCH_RATE = "3/60"
    codes = [
        client.get(reverse(f"speeches:{name}", args=[seed.pk])).status_code
        for name in DOWNLOADS[:2]
    ]
    codes.append(client.get(reverse("search:search"), {"q": "轴承"}).status_code)
    refused = client.get(reverse("speeches:export_docx", args=[seed.pk]))
    assert codes == [200, 200, 200] and refused.status_code == 429
    assert "请求过于频繁" in refused.content.decode() and 1 <= int(refused["Retry-After"]) <= 60
    # The address's page is not one of them.
    assert client.get(seed.get_absolute_url()).status_code == 200


def test_a_download_reads_a_bounded_number_of_rows(client, seed, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        download(client, "export_docx", seed)
