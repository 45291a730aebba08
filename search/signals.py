"""Follow changes to speeches without writing the index: each change enqueues an IndexTask.

The task is inserted in the same transaction as the change, so a rolled-back save leaves no
task and a committed one always has one.
"""

from django.db.models.signals import post_delete, post_save, pre_save

from speeches.models import Event, Organization, Person, Speech

from . import names, vocabulary
from .models import IndexAction, VocabularyTerm, enqueue


def speech_saved(sender, instance, raw=False, **kwargs):
    # Also for drafts: the indexer removes what is not published.
    enqueue([instance.pk])


def speech_deleted(sender, instance, **kwargs):
    enqueue([instance.pk], IndexAction.DELETE)


def name_changed(sender, instance, created=False, raw=False, **kwargs):
    """Names are indexed with each speech (speaker:, org:, event: and plain words)."""
    if created:
        return
    ids = Speech.objects.filter(**{names.KIND_OF[sender]: instance}).values_list("pk", flat=True)
    enqueue(ids)


def names_saved(sender, instance, raw=False, **kwargs):
    # Also on a restore (raw): the rows follow the names loaded.
    names.index_names(instance)


def names_deleted(sender, instance, **kwargs):
    names.forget_names(kind=names.KIND_OF[sender], pk=instance.pk)


def term_saving(sender, instance, raw=False, **kwargs):
    """Before a term is saved: the words it had (a new one: none)."""
    old = None if raw or instance.pk is None else sender.objects.filter(pk=instance.pk).first()
    instance.words_before = old.words() if old else set()


def term_saved(sender, instance, raw=False, **kwargs):
    # A restore (raw) has no index to correct: rebuild_search_index follows it.
    instance.reindexed = vocabulary.changed(
        before=instance.words_before, after=instance.words(), reindex=not raw
    )


def term_deleted(sender, instance, **kwargs):
    instance.reindexed = vocabulary.changed(before=instance.words(), after=set())


def connect():
    # No paragraph signals: every body change goes through speeches.services, which saves the
    # speech once (services.touch); a signal per paragraph would queue one task per row.
    post_save.connect(speech_saved, sender=Speech, dispatch_uid="search.speech_saved")
    post_delete.connect(speech_deleted, sender=Speech, dispatch_uid="search.speech_deleted")
    for model in (Person, Organization, Event):
        post_save.connect(name_changed, sender=model, dispatch_uid=f"search.{model.__name__}")
        post_save.connect(names_saved, sender=model, dispatch_uid=f"search.names.{model.__name__}")
        post_delete.connect(
            names_deleted, sender=model, dispatch_uid=f"search.names_gone.{model.__name__}"
        )
    pre_save.connect(term_saving, sender=VocabularyTerm, dispatch_uid="search.term_saving")
    post_save.connect(term_saved, sender=VocabularyTerm, dispatch_uid="search.term_saved")
    post_delete.connect(term_deleted, sender=VocabularyTerm, dispatch_uid="search.term_deleted")
