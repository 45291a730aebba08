"""Uploads cannot write outside MEDIA_ROOT, outgrow the size limit, exhaust memory, or be
fetched by anyone but staff who may see them."""

import io
import struct
import tracemalloc
import zipfile
import zlib

import docx
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from speeches import services
from speeches.importing.decoding import decode_upload
from speeches.importing.errors import TranscriptImportError
from speeches.importing.selectors import original_path
from speeches.models import SourceFile, Speech
from speeches.tests.factories import review_data

pytestmark = pytest.mark.django_db
UPLOAD = reverse("admin:speeches_speech_import")
SAVE = reverse("admin:speeches_speech_import_save")
TEXT = "各位代表：\n\n这是正文的第一段。\n\n这是正文的第二段。\n".encode()
MEMORY_BOUND = 50 * 2**20
BOMB_MB = 200
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
PACKAGE_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


# The sandbox: MEDIA_ROOT sits two folders deep, and the process works inside it, so
# a name that climbs out ("../../x") would land in the sandbox, where the test sees it.


@pytest.fixture
def media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "a" / "b" / "media"
    settings.MEDIA_ROOT.mkdir(parents=True)
    monkeypatch.chdir(settings.MEDIA_ROOT)
    return settings.MEDIA_ROOT


def files_under(root):
    return {p for p in root.rglob("*") if p.is_file()}


def written_outside_originals(tmp_path, media):
    return {p for p in files_under(tmp_path) if not p.is_relative_to(media / "originals")}


def multipart(filename, data):
    """A form body with the file name exactly as given (the test client would clean it)."""
    boundary = "archive-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode() + data
    body += f"\r\n--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


# File names ----------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd.txt",
        "..\\..\\x.txt",
        "/etc/passwd.txt",
        "C:\\Windows\\x.txt",
        "a\x00.txt",
        "a\x1b[31m.txt",
        "..",
        "",
    ],
)
def test_the_service_refuses_names_that_could_leave_the_folder(media, tmp_path, filename):
    with pytest.raises(TranscriptImportError, match="文件名.*不可用"):
        services.import_transcript(data=TEXT, filename=filename)
    assert files_under(tmp_path) == set()
    assert not SourceFile.objects.exists() and not Speech.objects.exists()


def test_a_very_long_name_is_shortened_and_keeps_its_extension(media, tmp_path):
    name = "讲" * 300 + ".txt"
    result = services.import_transcript(data=TEXT, filename=name)
    recorded = result.source_file.original_name
    assert len(recorded) == 255 and recorded == "讲" * 251 + ".txt"
    assert (
        result.source_file.stored_path
        == original_path(sha256=result.sha256).relative_to(media).as_posix()
    )
    assert written_outside_originals(tmp_path, media) == set()
    assert files_under(tmp_path) == {original_path(sha256=result.sha256)}


@pytest.mark.parametrize(
    ("sent", "recorded"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\x.txt", "x.txt"),
        ("/tmp/abs.txt", "abs.txt"),
        ("C:\\Users\\me\\讲稿.txt", "讲稿.txt"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("长" * 300 + ".txt", "长" * 251 + ".txt"),
    ],
    ids=["parent", "backslash", "absolute", "windows", "nul", "long"],
)
def test_admin_upload_keeps_the_original_by_digest_under_media_root(
    media, tmp_path, boss, sent, recorded
):
    preview = boss.post(UPLOAD, **multipart(sent, TEXT))
    assert preview.status_code == 200, preview.content.decode()[:500]
    saved = boss.post(SAVE, review_data(preview, kind="讲话", _draft="1"))
    assert saved.status_code == 302
    source = SourceFile.objects.get()
    assert source.original_name == recorded
    assert files_under(tmp_path) == {original_path(sha256=source.sha256)}
    assert original_path(sha256=source.sha256).read_bytes() == TEXT


def test_a_forged_name_in_the_review_step_is_refused(media, tmp_path, boss):
    preview = boss.post(UPLOAD, **multipart("a.txt", TEXT))
    response = boss.post(
        SAVE, review_data(preview, filename="../../evil.txt", _draft="1"), follow=True
    )
    assert "不能含有控制字符，也不能含有路径分隔符或“..”" in response.content.decode()
    assert not Speech.objects.exists() and not SourceFile.objects.exists()
    assert written_outside_originals(tmp_path, media) == set()


# Size limits ---------------------------------------------------------------


@pytest.fixture
def small_limit(settings):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = len(TEXT)
    return len(TEXT)


def test_over_the_limit_is_refused_by_the_admin_and_nothing_is_kept(
    media, tmp_path, boss, small_limit
):
    file_response = boss.post(UPLOAD, **multipart("big.txt", TEXT + b"x"))
    pasted_response = boss.post(UPLOAD, {"text": (TEXT + b"x").decode()})
    for response in (file_response, pasted_response):
        assert response.status_code == 200
        page = response.content.decode()
        assert f"文件太大：{small_limit + 1:,} 字节，上限是 {small_limit:,} 字节" in page
    assert files_under(tmp_path) == set() and not SourceFile.objects.exists()
    # Exactly at the limit is fine.
    assert "文件太大" not in boss.post(UPLOAD, **multipart("ok.txt", TEXT)).content.decode()


def test_a_request_over_django_s_own_limit_gets_a_chinese_page(media, tmp_path, boss, settings):
    # Pasted text is form data: past DATA_UPLOAD_MAX_MEMORY_SIZE Django refuses it before our view.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = Speech.objects.count()
    response = boss.post(UPLOAD, {"text": "轴承" * 1000})
    assert response.status_code == 400
    assert "请求无法处理" in response.content.decode()
    assert Speech.objects.count() == before and files_under(tmp_path) == set()


def test_over_the_limit_is_refused_by_the_service_and_nothing_is_kept(media, tmp_path, small_limit):
    for dry_run in (True, False):
        with pytest.raises(TranscriptImportError, match="文件太大"):
            services.import_transcript(data=TEXT + b"x", filename="a.txt", dry_run=dry_run)
    with pytest.raises(TranscriptImportError, match="文件太大"):
        services.preview_import(data=TEXT + b"x", filename="a.txt")
    assert files_under(tmp_path) == set() and not SourceFile.objects.exists()


# Zip bombs -----------------------------------------------------------------


def package(write_document, *, compression=zipfile.ZIP_DEFLATED, extra=()):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        for name, data in extra:
            archive.writestr(name, data)
        with archive.open("word/document.xml", "w") as member:
            write_document(member)
    return out.getvalue()


def write_zeros(member, megabytes=BOMB_MB):
    """Streamed, so building the bomb costs the test 1 MB, not 200."""
    chunk = bytes(2**20)
    for _ in range(megabytes):
        member.write(chunk)


def declare_size(data, name, size):
    """The zip with `name`'s size (and a CRC to match its first `size` bytes) rewritten.

    zipfile stops a member at its declared size, so a matching CRC makes the lie pass
    zipfile's own checks.
    """
    data, encoded = bytearray(data), name.encode()
    crc = zlib.crc32(bytes(size))
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length, *_ = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + name_length] == encoded:
            struct.pack_into("<L", data, at + 16, crc)
            struct.pack_into("<L", data, at + 24, size)
            local, *_ = struct.unpack_from("<L", data, at + 42)
            struct.pack_into("<L", data, local + 14, crc)
            struct.pack_into("<L", data, local + 22, size)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


@pytest.fixture(scope="module")
def honest_bomb():
    return package(write_zeros)


def peak_memory(action):
    """Peak Python memory while `action` runs; it must raise TranscriptImportError."""
    tracemalloc.start()
    try:
        with pytest.raises(TranscriptImportError) as refusal:
            action()
        return tracemalloc.get_traced_memory()[1], str(refusal.value)
    finally:
        tracemalloc.stop()


def test_an_honest_bomb_is_refused_without_inflating_it(honest_bomb):
    assert len(honest_bomb) < 2**20  # 200 MB of zeros in a file far under the upload limit
    peak, message = peak_memory(lambda: decode_upload(data=honest_bomb, filename="b.docx"))
    assert f"解压后有 {BOMB_MB * 2**20 + len(CONTENT_TYPES) + len(PACKAGE_RELS):,} 字节" in message
    assert peak < MEMORY_BOUND


@pytest.mark.parametrize("declared", [4096, 10 * 2**20])
def test_a_bomb_lying_about_its_size_is_refused_within_bounded_memory(honest_bomb, declared):
    liar = declare_size(honest_bomb, "word/document.xml", declared)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo("word/document.xml").file_size == declared
    # Reading it whole, as python-docx does, would hold all 200 MB at once.
    peak, message = peak_memory(lambda: decode_upload(data=liar, filename="b.docx"))
    assert "无法读取这个 .docx 文件" in message
    assert peak < MEMORY_BOUND


def test_the_service_keeps_nothing_of_a_bomb(media, tmp_path, honest_bomb):
    liar = declare_size(honest_bomb, "word/document.xml", 4096)
    for data in (honest_bomb, liar):
        with pytest.raises(TranscriptImportError):
            services.preview_import(data=data, filename="bomb.docx")
    assert files_under(tmp_path) == set() and not SourceFile.objects.exists()


def test_a_member_compressed_without_an_output_bound_is_refused():
    bz = package(lambda m: m.write(b"<w:document/>"), compression=zipfile.ZIP_BZIP2)
    with pytest.raises(TranscriptImportError, match="Word 不用的压缩方式"):
        decode_upload(data=bz, filename="a.docx")


def test_a_zip_directory_too_large_to_read_is_refused():
    many = [(f"customXml/item{i}.bin", b"") for i in range(20_000)]
    crowded = package(lambda m: m.write(b"<w:document/>"), extra=many)
    with pytest.raises(TranscriptImportError, match="zip 目录异常"):
        decode_upload(data=crowded, filename="a.docx")


def tiny_png():
    def chunk(kind, body):
        return (
            struct.pack(">L", len(body)) + kind + body + struct.pack(">L", zlib.crc32(kind + body))
        )

    header = struct.pack(">LLBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_real_document_with_a_picture_still_gives_its_text():
    document = docx.Document()
    document.add_paragraph("各位代表：")
    document.add_picture(io.BytesIO(tiny_png()))
    document.add_paragraph("这是正文。")
    out = io.BytesIO()
    document.save(out)
    decoded = decode_upload(data=out.getvalue(), filename="a.docx")
    assert [p for p in decoded.text.split("\n\n") if p] == ["各位代表：", "这是正文。"]


# Downloads -----------------------------------------------------------------

MARKUP_TEXT = "各位代表：\n\n<html><script>alert(1)</script></html>\n".encode()


@pytest.fixture
def source(media):
    return services.import_transcript(data=MARKUP_TEXT, filename="原稿.txt").source_file


def download_url(source):
    return reverse("admin:speeches_sourcefile_download", args=[source.pk])


def test_staff_who_may_view_originals_get_the_exact_bytes(boss, source):
    response = boss.get(download_url(source))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MARKUP_TEXT
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%8E%9F%E7%A8%BF.txt" in response["Content-Disposition"]


def test_the_admin_links_the_download(boss, source):
    link = f'href="{download_url(source)}"'
    assert link in boss.get(reverse("admin:speeches_sourcefile_changelist")).content.decode()
    change = reverse("admin:speeches_sourcefile_change", args=[source.pk])
    assert link in boss.get(change).content.decode()


def test_anonymous_readers_are_sent_to_log_in(client, source):
    response = client.get(download_url(source))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_view_permission_are_refused(client, source, editor):
    client.force_login(editor)
    assert client.get(download_url(source)).status_code == 403
    editor.user_permissions.add(Permission.objects.get(codename="view_sourcefile"))
    assert client.get(download_url(source)).status_code == 200


def test_a_missing_original_is_not_found(boss, source):
    original_path(sha256=source.sha256).unlink()
    assert boss.get(download_url(source)).status_code == 404


def test_no_public_url_reaches_media_root(client, boss, source, media):
    relative = original_path(sha256=source.sha256).relative_to(media).as_posix()
    assert (media / relative).read_bytes() == MARKUP_TEXT
    for prefix in ["/media/", "/uploads/", "/static/", "/", "/static/../uploads/", "/media/../"]:
        for reader in (client, boss):
            response = reader.get(prefix + relative)
            assert response.status_code == 404, prefix
    # The address page's own links lead only to the admin download.
    old = f"/admin/speeches/speech/source/{source.pk}/download/"
    response = boss.get(old, follow=True)
    assert not getattr(response, "streaming", False)
    assert MARKUP_TEXT not in response.content
