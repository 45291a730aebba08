"""decode_upload: every supported format and encoding, and a Chinese refusal for each bad input."""

import io
import re
import zipfile

import docx
import pypdf
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from speeches.importing.decoding import decode_upload
from speeches.importing.errors import TranscriptImportError
from speeches.importing.parsing import parse_transcript

TEXT = "各位来宾，各位朋友：\n\n两年一届的上海国际轴承峰会再一次将我们汇聚到繁华的国际都市。\n"
CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
TRADITIONAL = (
    "各位來賓，各位朋友：\n\n兩年一屆的上海國際軸承峰會再一次將我們匯聚到繁華的國際都市。\n"
)


def text_pdf(line):
    """A one-page PDF whose text layer holds `line` (ASCII, Helvetica)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def blank_pdf():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(paragraphs):
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-be").join([b"\xfe\xff", b""]), "utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "gbk", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_text_encodings_are_detected_and_recorded(data, encoding):
    decoded = decode_upload(data=data, filename="讲稿.txt")
    assert decoded.text.lstrip("\ufeff") == TEXT
    assert decoded.encoding == encoding


def test_big5_is_told_apart_from_gb18030():
    decoded = decode_upload(data=TRADITIONAL.encode("big5"), filename="講稿.md")
    assert (decoded.text, decoded.encoding) == (TRADITIONAL, "big5")


def test_docx_paragraphs_become_blank_line_separated_text():
    decoded = decode_upload(data=docx_bytes(["第一段。", "第二段。"]), filename="a.DOCX")
    assert decoded.encoding == "docx"
    assert decoded.text.split("\n\n") == ["第一段。", "第二段。"]


def test_pdf_text_layer_is_read():
    decoded = decode_upload(data=text_pdf("Opening address 2024"), filename="a.pdf")
    assert "Opening address 2024" in decoded.text
    assert decoded.encoding == "pdf"


def zip_bomb():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (10 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.txt", "文件是空的"),
        (b"  \r\n\t\n\xe3\x80\x80\n", "a.txt", "只有空白"),
        (bytes(range(256)) * 4, "a.txt", "不是文本文件"),
        (b"\x81\x30\x89\x38\xff\xfe\xfa" * 10 + b"\xff", "a.txt", "无法识别文件的编码"),
        (TEXT.encode(), "a.rtf", "不支持“.rtf”文件"),
        (TEXT.encode(), "README", "不支持“无扩展名”文件"),
        (TEXT.encode(), "../a.txt", "不能含有路径分隔符"),
        (TEXT.encode(), "dir/a.txt", "不能含有路径分隔符"),
        (TEXT.encode(), "dir\\a.txt", "不能含有路径分隔符"),
        (TEXT.encode(), "a..txt", "不能含有路径分隔符或“..”"),
        (b"PK\x03\x04 this is not really a zip", "a.docx", "不是 Word 文档应有的 zip 格式"),
        (TEXT.encode(), "a.docx", "不是 Word 文档应有的 zip 格式"),
        (blank_pdf(), "scan.pdf", "此 PDF 没有文字层"),
        (b"%PDF-1.4 broken", "a.pdf", "无法读取这个 PDF"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_input_is_refused_in_chinese(data, filename, message):
    with pytest.raises(TranscriptImportError, match=message):
        decode_upload(data=data, filename=filename)


def test_docx_that_expands_past_the_limit_is_refused():
    with pytest.raises(TranscriptImportError, match="解压后有 .* 字节，超过了允许的大小"):
        decode_upload(data=zip_bomb(), filename="bomb.docx")


def test_file_over_the_size_limit_is_refused(settings):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(TranscriptImportError, match="文件太大：1,001 字节，上限是 1,000 字节"):
        decode_upload(data=b"a" * 1001, filename="a.txt")
    assert decode_upload(data=b"a" * 1000, filename="a.txt").text == "a" * 1000


@examples(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["a.txt", "a.md", "a.docx", "a.pdf"]))
def test_random_bytes_give_a_record_or_the_import_error(data, filename):
    try:
        parsed = parse_transcript(decode_upload(data=data, filename=filename).text)
    except TranscriptImportError:
        return
    assert parsed.paragraphs and all(p.strip() for p in parsed.paragraphs)


@examples(max_examples=200, deadline=None)
@given(
    # Real text has no control characters besides line breaks and tabs; those are refused.
    st.text(
        st.one_of(st.characters(blacklist_categories=("Cc", "Cs")), st.sampled_from("\r\n\t")),
        min_size=1,
        max_size=200,
    ),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]),
)
def test_any_text_in_any_supported_encoding_keeps_its_cjk(text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        decoded = decode_upload(data=data, filename="a.txt")
        parsed = parse_transcript(decoded.text)
    except TranscriptImportError:
        assert not CJK.search(text)
        return
    assert CJK.findall(parsed.source_text()) == CJK.findall(text)
