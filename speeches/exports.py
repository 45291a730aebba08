"""An address as a file: its citation (GB/T 7714-2015, BibTeX, RIS) and its text (.txt, .md,
.docx). Every format takes the address's absolute URL, which only a request knows.

Each format escapes for the program that reads it, never for a browser: the downloads are sent
as attachments with their own content types (and nosniff), so no page renders them as HTML.
"""

import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

# XML 1.0 refuses these, so a feed or a .docx holding one could not be written at all.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Characters Windows, macOS or a shell would refuse or misread in a file name.
UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
FILE_NAME_CHARS = 60


def xml_safe(text):
    return CONTROL_CHARACTERS.sub("", text or "")


def one_line(text):
    """A field of a citation format that is one line per field: a line break inside a value
    would start a field (RIS) or end the entry of its own."""
    return " ".join(xml_safe(text).split())


def byline_parts(speech):
    """Who spoke (for whom), where and when, as the address page shows them."""
    parts = []
    if speech.speaker:
        role = "".join(
            filter(None, [speech.organization and speech.organization.name, speech.position])
        )
        parts.append(f"{speech.speaker.name}（{role}）" if role else speech.speaker.name)
    if speech.event:
        parts.append(speech.event.name)
    if speech.date:
        parts.append(speech.date_display)
    return parts


def byline(speech):
    return " · ".join(byline_parts(speech))


# -- citations ------------------------------------------------------------------------------


def full_title(speech):
    # GB/T 7714 writes other title information after a colon.
    return f"{speech.title}: {speech.subtitle}" if speech.subtitle else speech.title


def source_of(speech):
    """Where the address was given or printed: its event, else the column that printed it."""
    return speech.event.name if speech.event else speech.column


def citation(speech, *, url):
    """GB/T 7714-2015, as a report online ([R/OL]): speaker. title[R/OL]. source, date. URL."""
    head = f"{speech.speaker.name}. " if speech.speaker else ""
    where = ", ".join(filter(None, [source_of(speech), speech.date_iso]))
    parts = [f"{head}{full_title(speech)}[R/OL]", where, url]
    return one_line(". ".join(filter(None, parts)) + ".")


LATEX_SPECIAL = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "#": r"\#",
        "$": r"\$",
        "%": r"\%",
        "&": r"\&",
        "_": r"\_",
        "^": r"\textasciicircum{}",
        "~": r"\textasciitilde{}",
    }
)


def as_bibtex(speech, *, url):
    def latex(text):
        return one_line(text).translate(LATEX_SPECIAL)

    fields = [
        # Double braces: a name is one literal name, never split at "and" or a comma.
        ("author", "{" + latex(speech.speaker.name) + "}" if speech.speaker else ""),
        ("title", latex(full_title(speech))),
        ("howpublished", latex(source_of(speech))),
        ("date", speech.date_iso or ""),
        ("year", str(speech.date.year) if speech.date else ""),
        ("month", str(speech.date.month) if speech.date_precision in ("month", "day") else ""),
        ("url", url),
        ("langid", "chinese"),
    ]
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
    return f"@misc{{speech{speech.pk},\n{body}}}\n"


def as_ris(speech, *, url):
    date = speech.date
    fields = [
        ("TY", "RPRT"),  # GB/T's [R]: a report
        ("AU", speech.speaker.name if speech.speaker else ""),
        ("TI", full_title(speech)),
        ("T2", source_of(speech)),
        ("PY", str(date.year) if date else ""),
        ("DA", _ris_date(speech)),
        ("M3", speech.get_kind_display()),
        ("UR", url),
        ("LA", "zh"),
        ("DB", _("讲稿库")),
    ]
    lines = [f"{tag}  - {one_line(str(value))}" for tag, value in fields if value]
    return "\r\n".join([*lines, "ER  - ", ""])


def _ris_date(speech):
    """YYYY/MM/DD/ with the parts the source does not give left empty."""
    if not speech.date:
        return ""
    parts = speech.date_iso.split("-") + ["", ""]
    return "/".join(parts[:3]) + "/"


# -- the text -------------------------------------------------------------------------------


def as_text(speech, *, url):
    head = [speech.title, speech.subtitle and f"——{speech.subtitle}", byline(speech)]
    blocks = [
        "\n".join(filter(None, head)),
        *(p.text for p in speech.paragraphs.all()),
        _("引用：") + citation(speech, url=url),
    ]
    return "\n\n".join(blocks) + "\n"


# CommonMark: any ASCII punctuation may be escaped with a backslash. These mark up text anywhere
# (emphasis, code, links, raw HTML, entities, closing #s; ~ and | in GitHub's dialect) …
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>&~|#])")
# … and these at the start of a line: lists, thematic breaks, setext underlines, "1." and "1)".
MARKDOWN_LINE_START = re.compile(r"^([ \t]*)(?:([+=-])|(\d+)([.)]))", re.M)


def markdown_escaped(value):
    value = MARKDOWN_INLINE.sub(r"\\\1", value)
    return MARKDOWN_LINE_START.sub(
        lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"), value
    )


def as_markdown(speech, *, url):
    md = markdown_escaped
    blocks = [f"# {md(one_line(speech.title))}"]
    if speech.subtitle:
        blocks.append(f"——{md(one_line(speech.subtitle))}")
    if speech.speaker or speech.event or speech.date:
        blocks.append(md(byline(speech)))
    for paragraph in speech.paragraphs.all():
        escaped = md(paragraph.text)
        blocks.append(f"## {one_line(escaped)}" if paragraph.is_heading else escaped)
    blocks += ["---", md(_("引用：") + citation(speech, url=url))]
    return "\n\n".join(blocks) + "\n"


def as_docx(speech, *, url):
    """Title, subtitle, byline (speaker, event, date), and the paragraphs numbered as their
    anchors on the address page (#pN), with a hanging indent."""
    # Imported when a .docx is asked for, as in importing/decoding.py: python-docx and lxml
    # would otherwise load into every web worker at start.
    from docx import Document
    from docx.shared import Cm, RGBColor

    document = Document()
    _chinese_fonts(document)
    properties = document.core_properties
    properties.title = one_line(speech.title)
    properties.author = one_line(speech.speaker.name) if speech.speaker else ""
    properties.identifier = url
    properties.language = "zh-CN"
    document.add_heading(xml_safe(speech.title), level=0)
    if speech.subtitle:
        document.add_paragraph(xml_safe(f"——{speech.subtitle}"), style="Subtitle")
    for line in byline_parts(speech):
        document.add_paragraph(xml_safe(line))
    for paragraph in speech.paragraphs.all():
        block = document.add_paragraph(style="Heading 2" if paragraph.is_heading else None)
        layout = block.paragraph_format
        layout.left_indent, layout.first_line_indent = Cm(1), Cm(-1)
        layout.tab_stops.add_tab_stop(Cm(1))
        number = block.add_run(str(paragraph.position))
        number.font.color.rgb = RGBColor(0x6F, 0x6F, 0x6F)
        block.add_run("\t" + xml_safe(paragraph.text))
    document.add_paragraph(_("引用：") + citation(speech, url=url))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _chinese_fonts(document):
    """Word otherwise sets the Chinese text in whatever East Asian font its locale picks."""
    from docx.oxml.ns import qn

    for name, font in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 2", "黑体")):
        fonts = document.styles[name].element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), font)


@dataclass(frozen=True)
class Format:
    extension: str
    content_type: str
    build: object  # (speech, *, url) -> str or bytes


FORMATS = {
    "bib": Format(".bib", "application/x-bibtex; charset=utf-8", as_bibtex),
    "ris": Format(".ris", "application/x-research-info-systems; charset=utf-8", as_ris),
    "txt": Format(".txt", "text/plain; charset=utf-8", as_text),
    "md": Format(".md", "text/markdown; charset=utf-8", as_markdown),
    "docx": Format(
        ".docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        as_docx,
    ),
}


def file_name(speech, extension):
    """The title as a file name, or speech-<id> when nothing of it is left."""
    stem = UNSAFE_IN_FILE_NAMES.sub("", one_line(speech.title)).strip(" .")[:FILE_NAME_CHARS]
    return f"{stem or f'speech-{speech.pk}'}{extension}"
