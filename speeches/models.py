"""The archive's records: who spoke, for whom, where, and what was said.

Modelled on SayIt's speech/speaker/section split: a Speech belongs to a Person
and optionally an Event, and its body is a sequence of Paragraph rows so that
each paragraph has a stable anchor (#p1, #p2, ...) for citation and search.
"""

import datetime
from functools import lru_cache

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .pinyin import forms as pinyin_of


def record_url(name, pk):
    """reverse(name, args=[pk]) for a route taking one id, from the route resolved once:
    a results page links some eighty records, and reverse() costs ~40 µs a call."""
    head, tail = _route(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return f"{head}{pk}{tail}"


_MARK = 8642097531


@lru_cache(maxsize=64)
def _route(name, _prefix, _urlconf):
    return reverse(name, args=[_MARK]).split(str(_MARK))


class Organization(models.Model):
    name = models.CharField(_("名称"), max_length=200, unique=True)
    short_name = models.CharField(_("简称"), max_length=100, blank=True)
    # Derived from the names on every save (speeches.signals): 周宇 → "zhouyu zy".
    pinyin = models.TextField(_("拼音"), blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("机构")
        verbose_name_plural = _("机构")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("speeches:organization", self.pk)

    def pinyin_forms(self):
        return pinyin_of(self.name, self.short_name)


class Person(models.Model):
    # Positions and organizations change over a career, so they live on each
    # Speech ("at the time"), not here.
    name = models.CharField(_("姓名"), max_length=100, db_index=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, help_text=_("用于区分同名的人"))
    # Derived from the names on every save (speeches.signals): 周宇 → "zhouyu zy".
    pinyin = models.TextField(_("拼音"), blank=True, editable=False)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("讲者")
        verbose_name_plural = _("讲者")
        constraints = [
            models.UniqueConstraint(fields=["name", "note"], name="person_unique_name_note"),
        ]

    def __str__(self):
        return f"{self.name}（{self.note}）" if self.note else self.name

    def get_absolute_url(self):
        return record_url("speeches:person", self.pk)

    def pinyin_forms(self):
        return pinyin_of(self.name, surname=True)


class Event(models.Model):
    name = models.CharField(_("名称"), max_length=200, unique=True)
    series = models.CharField(_("系列"), max_length=200, blank=True, db_index=True)
    year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True, db_index=True)
    city = models.CharField(_("城市"), max_length=100, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    organizer = models.ForeignKey(
        Organization,
        verbose_name=_("主办方"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="organized_events",
    )
    # Derived from the names on every save (speeches.signals): 周宇 → "zhouyu zy".
    pinyin = models.TextField(_("拼音"), blank=True, editable=False)

    class Meta:
        ordering = ["-year", "name"]
        verbose_name = _("会议活动")
        verbose_name_plural = _("会议活动")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="event_dates_ordered",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("speeches:event", self.pk)

    def pinyin_forms(self):
        return pinyin_of(self.name, self.series)


class SpeechKind(models.TextChoices):
    ADDRESS = "致辞", _("致辞")
    KEYNOTE = "主旨演讲", _("主旨演讲")
    REPORT = "报告", _("报告")
    SPEECH = "讲话", _("讲话")
    FOREWORD = "卷首语", _("卷首语")
    WORK_REPORT = "工作报告", _("工作报告")
    OTHER = "其他", _("其他")


class SpeechStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class DatePrecision(models.TextChoices):
    YEAR = "year", _("年")
    MONTH = "month", _("月")
    DAY = "day", _("日")


class SpeechQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=SpeechStatus.PUBLISHED)

    def with_related(self):
        return self.select_related("speaker", "organization", "event")

    def by_date(self):
        return self.order_by(models.F("date").desc(nulls_last=True), "-pk")


class Speech(models.Model):
    title = models.CharField(_("标题"), max_length=300)
    subtitle = models.CharField(_("副标题"), max_length=300, blank=True)
    kind = models.CharField(
        _("类型"), max_length=20, choices=SpeechKind.choices, default=SpeechKind.SPEECH
    )
    speaker = models.ForeignKey(
        Person,
        verbose_name=_("讲者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="speeches",
    )
    position = models.CharField(_("时任职务"), max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("代表机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="speeches",
    )
    event = models.ForeignKey(
        Event,
        verbose_name=_("会议活动"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="speeches",
    )
    column = models.CharField(
        _("出处栏目"), max_length=200, blank=True, help_text=_("刊载的来源或栏目，如“卷首语”")
    )
    # The first day of the period the source names; date_precision says how
    # much of it is real, so a year-only source is never shown with a day.
    date = models.DateField(_("日期"), null=True, blank=True, db_index=True)
    date_precision = models.CharField(
        _("日期精度"), max_length=5, choices=DatePrecision.choices, blank=True
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=SpeechStatus.choices,
        default=SpeechStatus.DRAFT,
        db_index=True,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Bumped when something else the address's page shows changes (a neighbour in its event,
    # a name of its speaker, organization or event): stored pages of older versions expire.
    page_version = models.PositiveIntegerField(_("页面版本"), default=0, editable=False)
    # What the address is about and the addresses most like it, as search computed them over
    # the whole archive (search.topics): stored, never computed on a reader's request. None:
    # not computed yet.
    keywords = models.JSONField(_("关键词"), null=True, default=None, blank=True, editable=False)
    related_ids = models.JSONField(_("相关讲稿"), default=list, blank=True, editable=False)

    objects = SpeechQuerySet.as_manager()

    class Meta:
        ordering = [models.F("date").desc(nulls_last=True), "-pk"]
        verbose_name = _("讲稿")
        verbose_name_plural = _("讲稿")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SpeechStatus.values), name="speech_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SpeechKind.values), name="speech_kind_valid"
            ),
            models.CheckConstraint(
                condition=(Q(date__isnull=True) & Q(date_precision=""))
                | (Q(date__isnull=False) & Q(date_precision__in=DatePrecision.values)),
                name="speech_date_has_precision",
            ),
            models.CheckConstraint(
                condition=~Q(date_precision=DatePrecision.YEAR) | Q(date__month=1, date__day=1),
                name="speech_year_date_is_jan_1",
            ),
            models.CheckConstraint(
                condition=~Q(date_precision=DatePrecision.MONTH) | Q(date__day=1),
                name="speech_month_date_is_first",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return record_url("speeches:speech", self.pk)

    @property
    def is_published(self):
        return self.status == SpeechStatus.PUBLISHED

    @property
    def year(self):
        return self.date.year if self.date else None

    @property
    def date_display(self):
        """The date at the precision the source gives: 2024年, 2024年11月 or 2024年11月20日."""
        if not self.date:
            return ""
        if self.date_precision == DatePrecision.YEAR:
            return _("%(y)d年") % {"y": self.date.year}
        if self.date_precision == DatePrecision.MONTH:
            return _("%(y)d年%(m)d月") % {"y": self.date.year, "m": self.date.month}
        return _("%(y)d年%(m)d月%(d)d日") % {
            "y": self.date.year,
            "m": self.date.month,
            "d": self.date.day,
        }

    @property
    def date_iso(self):
        """ISO 8601 truncated to the known precision: 2024, 2024-11 or 2024-11-20."""
        if not self.date:
            return None
        if self.date_precision == DatePrecision.YEAR:
            return f"{self.date.year:04d}"
        if self.date_precision == DatePrecision.MONTH:
            return f"{self.date.year:04d}-{self.date.month:02d}"
        return self.date.isoformat()

    def body_text(self):
        return "\n\n".join(p.text for p in self.paragraphs.all())


def date_from_parts(year, month=None, day=None):
    """Return (date, precision) for a partial date without inventing parts."""
    if day:
        return datetime.date(year, month, day), DatePrecision.DAY
    if month:
        return datetime.date(year, month, 1), DatePrecision.MONTH
    return datetime.date(year, 1, 1), DatePrecision.YEAR


class Paragraph(models.Model):
    speech = models.ForeignKey(
        Speech, verbose_name=_("讲稿"), on_delete=models.CASCADE, related_name="paragraphs"
    )
    position = models.PositiveIntegerField(_("序号"))
    text = models.TextField(_("正文"))
    is_heading = models.BooleanField(_("小标题"), default=False)

    class Meta:
        ordering = ["speech", "position"]
        verbose_name = _("段落")
        verbose_name_plural = _("段落")
        constraints = [
            models.UniqueConstraint(
                fields=["speech", "position"], name="paragraph_unique_position"
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="paragraph_position_from_1"),
        ]

    def __str__(self):
        return f"{self.speech_id}#p{self.position}"

    def get_absolute_url(self):
        return f"{self.speech.get_absolute_url()}#{self.anchor}"

    @property
    def anchor(self):
        return f"p{self.position}"


class SourceFile(models.Model):
    """The original bytes of an upload, kept so that no upload is ever lost."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    original_name = models.CharField(_("原文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    encoding = models.CharField(_("检测到的编码"), max_length=40, blank=True)
    stored_path = models.CharField(_("存储路径"), max_length=500)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传者"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    speech = models.ForeignKey(
        Speech,
        verbose_name=_("讲稿"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="source_files",
    )

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("原始文件")
        verbose_name_plural = _("原始文件")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("admin:speeches_sourcefile_change", args=[self.pk])


class ArchiveStamp(models.Model):
    """One row that changes whenever anything a public page shows changes.

    Readers' page caches are keyed by it: one primary-key read per request tells every web
    process whether its cached pages are still current, renames and deletions included.
    """

    changed_at = models.DateTimeField(_("最后变更时间"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("档案版本")
        verbose_name_plural = _("档案版本")

    def __str__(self):
        return f"{self.changed_at:%Y-%m-%d %H:%M:%S.%f}"

    def get_absolute_url(self):
        return reverse("speeches:home")

    @classmethod
    def bump(cls):
        # One UPDATE on every save; update_or_create would lock-read the row, then save it whole.
        now = timezone.now()
        if not cls.objects.filter(pk=1).update(changed_at=now):
            cls.objects.get_or_create(pk=1, defaults={"changed_at": now})


class RenderedPage(models.Model):
    """An address page as anonymous readers get it, and the head of its card, rendered when
    the address was saved.

    Derived data, never exported: a row is deleted whenever anything its page shows changes
    (see speeches.pages), and a row of another template release is never served.
    """

    speech = models.ForeignKey(
        Speech, verbose_name=_("讲稿"), on_delete=models.CASCADE, related_name="rendered_pages"
    )
    language = models.CharField(_("语言"), max_length=16)
    release = models.CharField(_("模板版本"), max_length=64)
    # The speech's state the page was rendered from; the page is served only while both match.
    speech_updated_at = models.DateTimeField(_("讲稿更新时间"))
    page_version = models.PositiveIntegerField(_("页面版本"))
    # zlib: a tenth of the text's size, and decompressing a page takes tens of microseconds.
    compressed_html = models.BinaryField(_("页面（zlib 压缩）"))
    # The head of the address's card in lists and search results, from the same state.
    card_html = models.TextField(_("卡片"), blank=True)
    rendered_at = models.DateTimeField(_("生成时间"), auto_now=True)

    class Meta:
        ordering = ["speech", "language"]
        verbose_name = _("已生成页面")
        verbose_name_plural = _("已生成页面")
        constraints = [
            models.UniqueConstraint(fields=["speech", "language"], name="rendered_page_unique")
        ]

    def __str__(self):
        return f"{self.speech_id} · {self.language}"

    def get_absolute_url(self):
        return record_url("speeches:speech", self.speech_id)
