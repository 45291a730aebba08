"""Uploaded bytes to text, or a clear refusal. Nothing here touches the database."""

import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import TranscriptImportError

TEXT_EXTENSIONS = {".txt", ".md"}
EXTENSIONS = TEXT_EXTENSIONS | {".docx", ".pdf"}
# A .docx is a zip; these bound what unpacking it may cost. Only its markup is unpacked
# (text needs nothing else), a chunk at a time: ZipFile.read, which python-docx uses,
# inflates a member's whole stream in one call before cutting it to the size the zip
# declares, so a member lying about its size would cost its real size in memory.
DOCX_MAX_UNPACKED_BYTES = 32 * 1024 * 1024
DOCX_MAX_RATIO = 200
DOCX_MAX_DIRECTORY_BYTES = 1024 * 1024
DOCX_MARKUP = (".xml", ".rels")
INFLATE_CHUNK = 64 * 1024
END_OF_DIRECTORY = struct.Struct("<4s4H2LH")
# Longer names do not fit SourceFile.original_name (and no file system takes them either).
MAX_FILENAME_CHARS = 255
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


def clean_filename(filename):
    """The name to record for an upload: checked as check_filename does, cut to fit the record.

    Originals are stored by their SHA-256, never under this name; it is only ever shown.
    """
    check_filename(filename)
    name = filename.strip()
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    suffix = PurePath(name).suffix
    return name[: MAX_FILENAME_CHARS - len(suffix)] + suffix


def check_filename(filename):
    """Return the file's lower-case extension; refuse names that could escape a folder."""
    name = filename or ""
    if (
        not name.strip()
        or "/" in name
        or "\\" in name
        or ".." in name
        or any(unicodedata.category(c) == "Cc" for c in name)
    ):
        raise TranscriptImportError(
            _("文件名“%(name)s”不可用：不能为空，不能含有控制字符，也不能含有路径分隔符或“..”。")
            % {"name": _printable(name)}
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


def _printable(name, limit=80):
    """A refused name as it can be shown in a message: control characters made visible."""
    shown = "".join(c if unicodedata.category(c) != "Cc" else "\ufffd" for c in name)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _docx_text(data):
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TranscriptImportError(_("这个 .docx 文件已损坏：它不是 Word 文档应有的 zip 格式。"))
    _check_zip_directory(data)
    import docx

    try:
        # python-docx only ever sees the copy whose markup was inflated here under the bound.
        document = docx.Document(_bounded_markup(data))
    except TranscriptImportError:
        raise
    except Exception as error:  # zipfile and python-docx raise many types for a malformed file
        raise TranscriptImportError(
            _("无法读取这个 .docx 文件：%(error)s") % {"error": error}
        ) from error
    # Word paragraphs are real paragraphs; a blank line between them says so to the parser.
    text = "\n\n".join(p.text for p in document.paragraphs)
    if not text.strip():
        raise TranscriptImportError(_("这个 .docx 文件里没有文字。"))
    return text


def _check_zip_directory(data):
    """Refuse a zip whose directory alone would cost much to read (zipfile reads it whole).

    Finds the end record as zipfile does: at the very end, else within the last 64 KiB.
    """
    at = len(data) - END_OF_DIRECTORY.size
    if not (data[at : at + 4] == b"PK\x05\x06" and data[-2:] == b"\x00\x00"):
        at = data.rfind(b"PK\x05\x06", max(0, len(data) - END_OF_DIRECTORY.size - 0xFFFF))
    fields = (
        END_OF_DIRECTORY.unpack_from(data, at)
        if 0 <= at <= len(data) - END_OF_DIRECTORY.size
        else None
    )
    # A Zip64 locator just before the end record: not written for any real Word document.
    zip64 = at >= 20 and data[at - 20 : at - 16] == b"PK\x06\x07"
    if fields is None or zip64 or fields[5] > DOCX_MAX_DIRECTORY_BYTES:
        raise TranscriptImportError(
            _("这个 .docx 的 zip 目录异常（条目过多或格式不对），拒绝读取。")
        )


def _bounded_markup(data):
    """A stream of a copy of the package whose markup was inflated under the bound.

    Other parts (images, embedded files) become empty entries: python-docx expects every
    part to exist but reads no text from them.
    """
    limit = min(DOCX_MAX_UNPACKED_BYTES, DOCX_MAX_RATIO * len(data))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as copy:
        # Last entry wins for a repeated name, as in zipfile's own lookups.
        members = {info.filename: info for info in source.infolist()}.values()
        markup = {id(i) for i in members if i.filename.lower().endswith(DOCX_MARKUP)}
        declared = sum(i.file_size for i in members if id(i) in markup)
        if declared > limit:
            raise _too_big(declared)
        inflated = 0
        for info in members:
            with copy.open(info.filename, "w") as target:
                if id(info) in markup:
                    inflated += _inflate(source, info, target, budget=limit - inflated)
    out.seek(0)
    return out


def _too_big(size):
    return TranscriptImportError(
        _("这个 .docx 解压后有 %(size)s 字节，超过了允许的大小，拒绝读取。") % {"size": f"{size:,}"}
    )


def _inflate(archive, info, target, *, budget):
    """Copy one member a chunk at a time, refusing it once it outgrows `budget` bytes."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # zipfile inflates bzip2 and LZMA members without an output bound; Word uses neither.
        raise TranscriptImportError(_("这个 .docx 使用了 Word 不用的压缩方式，拒绝读取。"))
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(INFLATE_CHUNK):
            size += len(chunk)
            # zipfile itself stops at the declared size, which the caller has checked; the
            # bound is held here too, so that it does not rest on that detail of zipfile.
            if size > budget:
                raise TranscriptImportError(
                    _(
                        "这个 .docx 解压后超过了允许的大小（%(mb)d MB，且不超过文件本身的 "
                        "%(ratio)d 倍），拒绝读取。"
                    )
                    % {"mb": DOCX_MAX_UNPACKED_BYTES // 2**20, "ratio": DOCX_MAX_RATIO}
                )
            target.write(chunk)
    return size


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
    return text.translate(PDF_GLYPH_NAMES)


def _pdf_glyph_names():
    """Characters a PDF's ToUnicode map gives for glyphs that are really common characters.

    CJK fonts such as Noto Sans CJK draw 一 and the Kangxi radical ⼀ with one glyph, and
    Chromium's PDFs (among others) name the glyph by the radical: 长 comes out as ⻓, 首 as ⾸,
    —— as ⸺. A transcript never means the radical, and search would miss every such word.
    """
    table = {code: unicodedata.normalize("NFKC", chr(code)) for code in range(0x2F00, 0x2FD6)}
    table.update({ord(radical): ideograph for radical, ideograph in RADICAL_SUPPLEMENT.items()})
    table.update({0x2E3A: "——", 0x2E3B: "———"})
    return table


# CJK Radicals Supplement characters with the ideograph they stand for (Unicode's
# EquivalentUnifiedIdeograph.txt); NFKC maps only two of them.
RADICAL_SUPPLEMENT = dict(
    zip(
        "⺁⺅⺉⺌⺍⺎⺗⺘⺝⺟⺠⺡⺣⺤⺦⺧⺨⺩⺫⺬⺭⺮⺰⺶⺻⺼⻁⻂⻄⻅⻆⻈⻉⻋⻏⻐⻑⻓⻔⻖⻗⻘⻙⻚⻛⻜⻝⻠⻢⻣⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳",
        "厂亻刂小小兀心扌月母民氵灬爫丬牛犭王罒示礻竹纟羊聿肉虎衤西见角讠贝车阝钅長长门阝雨青韦页风飞食饣马骨鬼鱼鸟卤麦黄黾齐齿龙龟",
        strict=True,
    )
)
PDF_GLYPH_NAMES = _pdf_glyph_names()
