"""The queue between the site's writes and the one process that writes the search index, and
the archive's vocabulary."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .engine.analysis import fold
from .terms import MAX_LENGTH, clean_synonyms, validate_term


class IndexAction(models.TextChoices):
    UPDATE = "update", _("更新")
    DELETE = "delete", _("删除")


class IndexTask(models.Model):
    # A plain integer, not a foreign key: the task must outlive the deleted speech.
    speech_id = models.BigIntegerField(_("讲稿编号"), db_index=True)
    action = models.CharField(_("操作"), max_length=10, choices=IndexAction.choices)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("索引任务")
        verbose_name_plural = _("索引任务")

    def __str__(self):
        return f"{self.action} {self.speech_id}"

    def get_absolute_url(self):
        return reverse("speeches:speech", args=[self.speech_id])


def enqueue(speech_ids, action=IndexAction.UPDATE):
    """Queue these speeches for the indexer, in the caller's transaction."""
    IndexTask.objects.bulk_create(IndexTask(speech_id=pk, action=action) for pk in speech_ids)


class VocabularyTerm(models.Model):
    """A word of the archive's own that jieba keeps whole (新质生产力), with its synonyms and
    abbreviations (十四五 for 第十四个五年规划). Checked by search.terms."""

    term = models.CharField(
        _("术语"), max_length=MAX_LENGTH, unique=True, validators=[validate_term]
    )
    # One a line, each checked like a term (search.terms.clean_synonyms).
    synonyms = models.TextField(
        _("同义词与简称"), blank=True, help_text=_("每行一个，也可用顿号、逗号分隔。")
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("添加人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    added_at = models.DateTimeField(_("添加时间"), auto_now_add=True)

    class Meta:
        ordering = ["term"]
        verbose_name = _("术语")
        verbose_name_plural = _("术语表")

    def __str__(self):
        return self.term

    def get_absolute_url(self):
        return reverse("admin:search_vocabularyterm_change", args=[self.pk])

    def clean(self):
        self.term = self.term.strip()
        try:
            self.synonyms = clean_synonyms(self.synonyms, term=self.term)
        except ValidationError as error:
            raise ValidationError({"synonyms": error.messages}) from None
        folded = fold(self.term)
        for other in VocabularyTerm.objects.exclude(pk=self.pk).only("term"):
            if fold(other.term) == folded:
                raise ValidationError(
                    {"term": _("术语表中已有“%(term)s”。") % {"term": other.term}}
                )

    def synonym_list(self):
        return [s for s in self.synonyms.splitlines() if s]

    def words(self):
        """The term and its synonyms: what jieba keeps whole."""
        return {self.term, *self.synonym_list()}


class VocabularyStamp(models.Model):
    """One row that changes with every change to the vocabulary: each process compares it with
    the one it loaded before it next cuts text (search.vocabulary.refresh)."""

    changed_at = models.DateTimeField(_("最后变更时间"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("术语表版本")
        verbose_name_plural = _("术语表版本")

    def __str__(self):
        return f"{self.changed_at:%Y-%m-%d %H:%M:%S.%f}"

    def get_absolute_url(self):
        return reverse("admin:search_vocabularyterm_changelist")


class TopicsState(models.Model):
    """One row: how many published addresses there were when keywords and related addresses
    were last all computed, and where a recomputation under way has got to."""

    documents = models.PositiveIntegerField(_("讲稿数"), default=0)
    cursor = models.BigIntegerField(_("进行到"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("关键词计算状态")
        verbose_name_plural = _("关键词计算状态")

    def __str__(self):
        return f"{self.documents}"

    def get_absolute_url(self):
        return reverse("speeches:home")

    @classmethod
    def current(cls):
        return cls.objects.get_or_create(pk=1)[0]


class NameGram(models.Model):
    """A character, or a pair of characters, of a person's, organization's or event's name,
    folded: a name filter (speaker:周宇) finds its candidates by these in one indexed query
    (search.names). One row per gram of each name; `folded` is the whole name, to confirm."""

    kind = models.CharField(_("类别"), max_length=16)
    object_id = models.BigIntegerField(_("编号"))
    folded = models.CharField(_("名称（折叠后）"), max_length=400)
    gram = models.CharField(_("字或字对"), max_length=2)

    class Meta:
        ordering = ["kind", "object_id", "gram"]
        verbose_name = _("名称索引项")
        verbose_name_plural = _("名称索引")
        indexes = [models.Index(fields=["kind", "gram"], name="search_namegram_kind_gram")]

    def __str__(self):
        return f"{self.kind} {self.object_id}: {self.gram}"

    def get_absolute_url(self):
        names = {"speaker": "speeches:speaker", "organization": "speeches:organization"}
        return reverse(names.get(self.kind, "speeches:event"), args=[self.object_id])
