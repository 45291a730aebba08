"""Repair a transcript's text and read its header into structured fields.

Real uploads are PDF copies with a line break every printed line, Word
documents, and files with one paragraph per line. The parser decides, at
each line break, whether it ends a paragraph or only a printed line, and
keeps every printed character: what it does not put into a paragraph it
puts into a metadata field, and `header_lines`/`footer_lines` record those
lines verbatim so nothing read from the source is unaccounted for.
"""

import datetime
import itertools
import re
import statistics
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..models import SpeechKind, date_from_parts
from .errors import TranscriptImportError

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
LINE_BREAK = re.compile("\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
INDENT = re.compile(r"^(?:\u3000|[ \t]{2,})")
TERMINAL = tuple("。！？!?；;：:…”’」』）)》】.")
SENTENCE_PUNCT = re.compile(r"[。！？!?；;：:，,]")
DASH = re.compile(r"^(?:——|—|－－|--|―|─)+\s*")
NUMBERED_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[）)]"
    r"|第[一二三四五六七八九十百零〇\d]+[章节部分篇编])"
)
DATE = r"(\d{4})\s*年\s*(?:(\d{1,2})\s*月\s*(?:(\d{1,2})\s*日)?)?"
DATE_LINE = re.compile(r"[（(]?\s*" + DATE + r"\s*[）)]?")
DATE_IN_TEXT = re.compile(DATE)
CJK_NAME = r"[\u3400-\u9fff](?:[ \u3000]?[\u3400-\u9fff]){1,3}"
NAME_LINE = re.compile(CJK_NAME)
SALUTATIONS = {"同志们", "朋友们", "各位代表", "各位来宾", "女士们", "先生们", "各位"}
KNOWN_COLUMNS = {"卷首语", "特稿", "专稿", "本刊特稿", "编者按", "专题", "封面故事", "致辞", "讲话"}
KNOWN_CITIES = (
    "北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "苏州", "武汉", "成都",
    "西安", "青岛", "大连", "宁波", "厦门", "沈阳", "长沙", "郑州", "济南", "合肥", "福州",
    "昆明", "哈尔滨", "长春", "石家庄", "太原", "南昌", "南宁", "贵阳", "兰州", "乌鲁木齐",
    "洛阳", "无锡", "香港", "澳门", "台北", "博鳌", "海口", "三亚",
)  # fmt: skip
# Longest first, so 副理事长 wins over 理事长 and 副总理 over 总理.
POSITIONS = sorted(
    (
        "常务副理事长 副理事长 理事长 执行会长 常务副会长 副会长 会长 副秘书长 秘书长 "
        "副总理 总理 副主席 主席 副总经理 总经理 副董事长 董事长 总书记 副书记 书记 "
        "副委员长 委员长 副院长 院长 副校长 校长 副部长 部长 副主任 主任 副市长 市长 "
        "副省长 省长 副局长 局长 社长 总裁 副总裁 总工程师 所长 厅长 司长 处长 "
        "首席执行官 执行董事 总监 院士"
    ).split(),
    key=len,
    reverse=True,
)
BYLINE = re.compile(
    r"(?P<org>.*?)(?P<position>" + "|".join(POSITIONS) + r")[ \u3000]*(?P<name>" + CJK_NAME + ")?"
)
# Kind words as they end a subtitle or title, longest first, with the kind they mean.
KIND_WORDS = (
    ("政府工作报告", SpeechKind.WORK_REPORT),
    ("工作报告", SpeechKind.WORK_REPORT),
    ("主旨演讲", SpeechKind.KEYNOTE),
    ("致辞", SpeechKind.ADDRESS),
    ("致词", SpeechKind.ADDRESS),
    ("贺词", SpeechKind.ADDRESS),
    ("报告", SpeechKind.REPORT),
    ("讲话", SpeechKind.SPEECH),
    ("演讲", SpeechKind.SPEECH),
    ("发言", SpeechKind.SPEECH),
)
TITLE_NOTE = re.compile(r"[（(]([^（()）]*)[）)]$")
DASH_SPLIT = re.compile(r"——|—|－－|--")
NUMBER = "[一二三四五六七八九十百零〇两\\d]+"
# 第十四届全国人民代表大会第一次会议, 中国共产党第二十次全国代表大会, 第三次全体会议.
SESSION = re.compile(rf"第{NUMBER}次(?:全体)?会议$")
ORDINAL = re.compile(rf"第{NUMBER}[届次]")
OCCASION = re.compile(r"在(?P<event>.+?)上(?:的(?:" + "|".join(w for w, _ in KIND_WORDS) + "))?$")
# A plain-layout line shorter than this that ends without punctuation is a
# heading or title of its own, not the first half of a broken sentence.
MIN_BROKEN_LINE = 25


@dataclass
class ParsedTranscript:
    paragraphs: list
    headings: tuple = ()
    column: str = ""
    title: str = ""
    subtitle: str = ""
    kind: str = ""
    organization: str = ""
    position: str = ""
    speaker: str = ""
    event_name: str = ""
    event_series: str = ""
    event_year: int | None = None
    event_city: str = ""
    date: datetime.date | None = None
    date_precision: str = ""
    header_lines: list = field(default_factory=list)
    footer_lines: list = field(default_factory=list)

    def source_text(self):
        """Everything the parser kept from the source, in source order."""
        return "\n".join([*self.header_lines, *self.paragraphs, *self.footer_lines])


@dataclass
class _Line:
    raw: str
    gap: list  # the blank lines just before this one, as they were

    @property
    def text(self):
        return self.raw.strip()

    @property
    def field_text(self):
        """The line as a header field: a run of spaces there is layout, not content (a PDF puts
        two between "2024" and "上海" where the page had one)."""
        return " ".join(self.raw.split())

    @property
    def trailing_space(self):
        return self.raw != self.raw.rstrip()

    @property
    def indented(self):
        return bool(INDENT.match(self.raw))

    @property
    def width(self):
        """Printed width, Chinese characters counting double, as in a wrapped PDF line."""
        return sum(1 if _narrow(c) else 2 for c in self.text)

    @property
    def ends_sentence(self):
        return self.text.endswith(TERMINAL)


def parse_transcript(text):
    """Return the ParsedTranscript for `text`, or raise TranscriptImportError."""
    lines = _content_lines(text)
    if not lines:
        raise TranscriptImportError(_("文件没有任何文字内容。"))
    meta = {}
    header, body = _split_header(lines, meta)
    footer = _split_footer(body, meta)
    paragraphs = _join(body)
    _fill_derived(meta)
    return ParsedTranscript(
        paragraphs=paragraphs,
        headings=find_headings(paragraphs),
        header_lines=[line.text for line in header],
        footer_lines=[line.text for line in footer],
        **meta,
    )


def _content_lines(text):
    lines, gap = [], []
    for raw in LINE_BREAK.split(ZERO_WIDTH.sub("", text)):
        if raw.strip():
            lines.append(_Line(raw=raw, gap=gap))
            gap = []
        else:
            gap.append(raw)
    return lines


# Header ----------------------------------------------------------------------


def _split_header(lines, meta):
    """Consume column, title, subtitle, date and byline lines from the top."""
    i = 0
    if len(lines) > 1 and _is_column(lines[0].field_text, lines[1].field_text):
        meta["column"] = lines[0].field_text
        i = 1
    titles = []
    while i < len(lines) and len(titles) < 3 and _is_title(lines[i].field_text):
        # A byline right under the title looks like one more title line; it is not.
        if titles and _is_byline(lines[i].field_text):
            break
        titles.append(lines[i].field_text)
        i += 1
    if titles:
        meta["title"] = _join_title(titles)
    while i < len(lines) and _read_header_line(lines[i].field_text, meta, after_title=bool(titles)):
        i += 1
    if i >= len(lines):
        # A "header" with no body after it is the body itself.
        meta.clear()
        return [], lines
    return lines[:i], lines[i:]


def _join_title(lines):
    """Title lines are separate phrases, except a word that a line break cut off."""
    title = lines[0]
    for line in lines[1:]:
        title += line if min(len(title), len(line)) <= 2 else f" {line}"
    return title


def _is_column(first, second):
    return (first in KNOWN_COLUMNS or len(first) <= 4) and _is_title(first) and _is_title(second)


def _is_title(text):
    return (
        len(text) <= 60
        and not SENTENCE_PUNCT.search(text)
        and not NUMBERED_HEADING.match(text)
        and not DASH.match(text)
        and not DATE_LINE.fullmatch(text)
        and text not in SALUTATIONS
    )


def _is_byline(text):
    """A "机构职务  姓名" line; one ending in a kind word (…理事长工作报告) is a title's."""
    byline = BYLINE.fullmatch(text)
    return bool(byline and byline["name"] and not _kind_at_end(text)[1])


def _read_header_line(text, meta, *, after_title):
    """Put one header line into `meta`; False when it is not a header line."""
    if DASH.match(text) and "subtitle" not in meta:
        meta["subtitle"] = DASH.sub("", text)
        _read_subtitle(meta["subtitle"], meta)
        return True
    if DATE_LINE.fullmatch(text) and _set_date(DATE_LINE.fullmatch(text), meta, override=True):
        return True
    if not after_title or "speaker" in meta or SENTENCE_PUNCT.search(text) or len(text) > 40:
        return False
    byline = BYLINE.fullmatch(text)
    if byline and "position" not in meta:
        meta["organization"] = byline["org"].strip()
        meta["position"] = byline["position"]
        if byline["name"]:
            meta["speaker"] = _squeeze(byline["name"])
        return True
    if NAME_LINE.fullmatch(text) and _squeeze(text) not in SALUTATIONS:
        meta["speaker"] = _squeeze(text)
        return True
    return False


def _read_subtitle(subtitle, meta):
    found = DATE_IN_TEXT.search(subtitle)
    if found:
        _set_date(found, meta, override=False)
    rest = DATE_IN_TEXT.sub("", subtitle, count=1).strip() if found else subtitle
    occasion = OCCASION.search(rest)
    kind_word, kind = _kind_at_end(rest)
    if kind:
        meta["kind"] = kind
    if occasion:
        meta["event_name"] = occasion["event"].strip()
    elif kind_word and rest[: -len(kind_word)].strip():
        meta["event_name"] = rest[: -len(kind_word)].strip()


def _kind_at_end(text):
    for word, kind in KIND_WORDS:
        if text.endswith(word):
            return word, kind.value
    return "", ""


def _set_date(match, meta, *, override):
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        date, precision = date_from_parts(year, month, day)
    except ValueError:
        return False
    if override or "date" not in meta:
        meta["date"], meta["date_precision"] = date, precision.value
    return True


def _squeeze(name):
    return re.sub(r"[ \u3000]", "", name)


def _fill_derived(meta):
    if meta.get("event_name"):
        series, year, city = describe_event(meta["event_name"])
        meta["event_series"], meta["event_city"] = series, city
        meta["event_year"] = year or (meta["date"].year if meta.get("date") else None)
    if "kind" not in meta and meta.get("title"):
        meta["kind"] = kind_from_title(meta["title"])
    if "date" not in meta and meta.get("event_year"):
        date, precision = date_from_parts(meta["event_year"])
        meta["date"], meta["date_precision"] = date, precision.value
    meta.setdefault("kind", "")


def describe_event(name):
    """(series, year, city) of an event: "2024 上海国际轴承峰会" is the 2024 meeting of the series
    上海国际轴承峰会 in 上海; "第十四届全国人民代表大会第一次会议" a session of the series
    全国人民代表大会 (its year comes from the address's date)."""
    year = re.match(r"(\d{4})\s*年?\s*", name)
    if not year:
        return _series_of_numbered(name), None, ""
    series = name[year.end() :]
    city = next((c for c in KNOWN_CITIES if series.startswith(c)), "")
    return _series_of_numbered(series) or series, int(year[1]), city


def _series_of_numbered(name):
    """The name without its term and session numbers (第十四届 …第一次会议, 第九次), or "" when it
    has none: the sessions of one body, told apart only by those numbers, are one series."""
    series = SESSION.sub("", name)
    series = ORDINAL.sub("", series).strip()
    return series if series != name else ""


def kind_from_title(title):
    """工作报告, 致辞 … when the title names one at its end, before a "——" subtitle, or in a
    closing note in brackets (关于…的报告（1996年政府工作报告）): the most specific of those."""
    title = title.strip()
    note = TITLE_NOTE.search(title)
    main = title[: note.start()] if note else title
    places = (main, DASH_SPLIT.split(main)[0], note[1] if note else "")
    kinds = [kind for _word, kind in map(_kind_at_end, (p.strip() for p in places)) if kind]
    if SpeechKind.WORK_REPORT in kinds:
        # 工作报告 is a kind of 报告: a title that says both is a work report.
        return SpeechKind.WORK_REPORT.value
    return kinds[0] if kinds else ""


def _split_footer(body, meta):
    """A closing date line (落款) is the speech's date, not a paragraph."""
    if len(body) > 1 and DATE_LINE.fullmatch(body[-1].text):
        if _set_date(DATE_LINE.fullmatch(body[-1].text), meta, override="date" not in meta):
            return [body.pop()]
    return []


# Body ------------------------------------------------------------------------


def _join(body):
    if not body:
        return []
    layout = _Layout(body)
    paragraphs, current = [], body[0].text
    for a, b in itertools.pairwise(body):
        if layout.breaks(a, b):
            paragraphs.append(current)
            current = b.text
        else:
            current = _glue(current, b.text)
    paragraphs.append(current)
    return paragraphs


class _Layout:
    """What a line break means in this document."""

    def __init__(self, body):
        open_lines = [line for line in body[:-1] if not line.ends_sentence]
        unmarked = [line for line in body if not line.trailing_space]
        unmarked_open = [line for line in unmarked if not line.ends_sentence]
        # PDF copies mark a paragraph's last line with a trailing space.
        self.trailing_mode = len(unmarked) < len(body) and len(unmarked_open) >= max(
            2, 0.3 * len(unmarked)
        )
        self.wrapped = len(open_lines) >= max(3, 0.4 * (len(body) - 1))
        self.width = statistics.median(line.width for line in open_lines) if open_lines else 0
        single = sum(1 for line in body[1:] if line.gap == [""])
        self.double_spaced = len(body) > 3 and single >= 0.8 * (len(body) - 1)
        gaps = sum(1 for line in body[1:] if line.gap)
        self.blank_separated = gaps >= max(2, 0.2 * (len(body) - 1))

    def breaks(self, a, b):
        if _is_numbered_heading(a.text) or _is_numbered_heading(b.text) or b.indented:
            return True
        if self.significant_gap(b.gap) and not _cut_mid_word(a):
            return True
        if self.trailing_mode:
            return a.trailing_space
        if self.wrapped:
            return a.ends_sentence and a.width < 0.9 * self.width
        if self.blank_separated:
            return False
        return a.ends_sentence or len(a.text) < MIN_BROKEN_LINE

    def significant_gap(self, gap):
        if not gap:
            return False
        if self.double_spaced and (self.trailing_mode or self.wrapped):
            return len(gap) > 1 or any(g for g in gap)
        return True


def _cut_mid_word(line):
    """A long line ending in a letter or digit was cut, even if a blank line follows."""
    return len(line.text) >= MIN_BROKEN_LINE and unicodedata.category(line.text[-1])[0] in "LN"


def _glue(left, right):
    """Join two printed lines: CJK joins directly, Latin words and numbers get one space."""
    if _narrow(left[-1]) and _narrow(right[0]):
        return f"{left} {right}"
    return left + right


def _narrow(char):
    return unicodedata.east_asian_width(char) in ("Na", "N") and not char.isspace()


def _is_numbered_heading(text):
    return bool(NUMBERED_HEADING.match(text)) and len(text) <= 40 and "。" not in text[:-1]


def find_headings(paragraphs):
    """Indexes (from 0) of the paragraphs that are headings."""
    return tuple(i for i, p in enumerate(paragraphs) if _is_heading(p, i, len(paragraphs)))


def _is_heading(text, index, count):
    if _is_numbered_heading(text):
        return True
    short_plain = len(text) <= 25 and not re.search(r"[。！？!?；;：:，,、.]", text)
    return short_plain and 0 < index < count - 1
