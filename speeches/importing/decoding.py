"""Uploaded bytes to text, or a clear refusal. Nothing here touches the database."""

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import TranscriptImportError

TEXT_EXTENSIONS = {".txt", ".md"}
EXTENSIONS = TEXT_EXTENSIONS | {".docx", ".pdf"}
# A .docx is a zip; these bound what unpacking it may cost.
DOCX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
DOCX_MAX_RATIO = 200
BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
MIN_BYTES_TO_GUESS = 64
# C0 controls other than tab, newlines and form feed never occur in real text.
CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f]")
LETTER = re.compile(r"\w")


@dataclass(frozen=True)
class DecodedFile:
    text: str
    encoding: str


def check_filename(filename):
    """Return the file's lower-case extension; refuse names that could escape a folder."""
    name = filename or ""
    if not name.strip() or "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise TranscriptImportError(
            _("文件名“%(name)s”不可用：不能为空，也不能含有路径分隔符或“..”。") % {"name": name}
        )
    extension = PurePath(name).suffix.lower()
    if extension not in EXTENSIONS:
        raise TranscriptImportError(
            _("不支持“%(extension)s”文件。可以上传 .txt、.md、.docx 或 .pdf。")
            % {"extension": extension or _("无扩展名")}
        )
    return extension


def check_size(size):
    """Callers check the size before reading a file whole, so a huge one is never loaded."""
    if not size:
        raise TranscriptImportError(_("文件是空的（0 字节）。"))
    limit = settings.ARCHIVE_UPLOAD_MAX_BYTES
    if size > limit:
        raise TranscriptImportError(
            _("文件太大：%(size)s 字节，上限是 %(limit)s 字节（%(mb)d MB）。")
            % {"size": f"{size:,}", "limit": f"{limit:,}", "mb": limit // 2**20}
        )


def decode_upload(*, data, filename):
    """Return DecodedFile(text, encoding) for an upload, or raise TranscriptImportError."""
    extension = check_filename(filename)
    check_size(len(data))
    if extension == ".docx":
        return DecodedFile(_docx_text(data), "docx")
    if extension == ".pdf":
        return DecodedFile(_pdf_text(data), "pdf")
    return _decode_text(data)


def _decode_text(data):
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _checked(_strict(data, encoding), encoding, data)
    if b"\x00" in data:
        raise TranscriptImportError(_("这不是文本文件：内容含有二进制数据。"))
    candidates = [
        (e, t) for e in ("utf-8", "gb18030", "big5") if (t := _strict(data, e)) is not None
    ]
    if not candidates:
        raise TranscriptImportError(
            _(
                "无法识别文件的编码：既不是 UTF-8，也不是 GB18030/GBK 或 Big5。请另存为 UTF-8 后再上传。"
            )
        )
    encoding, text = candidates[0] if len(candidates) == 1 else _likeliest(data, candidates)
    return _checked(text, encoding, data)


def _strict(data, encoding):
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _likeliest(data, candidates):
    """UTF-8 that decodes is UTF-8; between GB18030 and Big5 let charset-normalizer judge.

    A few bytes are no evidence either way; the archive's sources are mostly mainland
    ones, so short input is read as GB18030.
    """
    if candidates[0][0] == "utf-8" or len(data) < MIN_BYTES_TO_GUESS:
        return candidates[0]
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=[e for e, _ in candidates]).best()
    chosen = "big5" if best is not None and best.encoding == "big5" else candidates[0][0]
    return next(c for c in candidates if c[0] == chosen)


def _checked(text, encoding, data):
    if text is None:
        raise TranscriptImportError(
            _("文件以 %(encoding)s 标记开头，但内容无法按 %(encoding)s 解码。")
            % {"encoding": encoding}
        )
    if CONTROL.search(text) and len(CONTROL.findall(text)) > max(2, len(text) // 1000):
        raise TranscriptImportError(
            _("这不是文本文件：内容含有大量控制字符，可能是改了扩展名的二进制文件。")
        )
    if not text.strip():
        raise TranscriptImportError(_("文件只有空白，没有任何文字。"))
    return DecodedFile(text, encoding)


def _docx_text(data):
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TranscriptImportError(_("这个 .docx 文件已损坏：它不是 Word 文档应有的 zip 格式。"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > DOCX_MAX_UNPACKED_BYTES or unpacked > DOCX_MAX_RATIO * len(data):
        raise TranscriptImportError(
            _("这个 .docx 解压后有 %(size)s 字节，超过了允许的大小，拒绝读取。")
            % {"size": f"{unpacked:,}"}
        )
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises many types for a malformed package
        raise TranscriptImportError(
            _("无法读取这个 .docx 文件：%(error)s") % {"error": error}
        ) from error
    # Word paragraphs are real paragraphs; a blank line between them says so to the parser.
    text = "\n\n".join(p.text for p in document.paragraphs)
    if not text.strip():
        raise TranscriptImportError(_("这个 .docx 文件里没有文字。"))
    return text


def _pdf_text(data):
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise TranscriptImportError(_("这个 PDF 已加密，无法读取文字。请上传未加密的文件。"))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except TranscriptImportError:
        raise
    except Exception as error:  # pypdf raises many types for a malformed file
        raise TranscriptImportError(
            _("无法读取这个 PDF 文件：%(error)s") % {"error": error}
        ) from error
    if not LETTER.search(text):
        raise TranscriptImportError(
            _(
                "此 PDF 没有文字层（可能是扫描件），无法提取文字。请先做文字识别（OCR），"
                "或上传含文字的 PDF、Word 或文本文件。"
            )
        )
    return text
