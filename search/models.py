"""The queue between the site's writes and the one process that writes the search index."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


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
