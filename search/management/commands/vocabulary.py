from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from search import terms
from search.engine.analysis import fold
from search.models import VocabularyTerm


class Command(BaseCommand):
    help = "术语表：添加、删除或列出 jieba 须整词保留的术语。改动立即在各进程生效，含有该词的讲稿排队重新索引。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="添加术语")
        add.add_argument("terms", nargs="+", metavar="TERM")
        add.add_argument("--synonyms", default="", help="同义词与简称，用顿号或逗号分隔")
        add.add_argument("--note", default="", help="备注")
        remove = actions.add_parser("remove", help="删除术语")
        remove.add_argument("terms", nargs="+", metavar="TERM")
        actions.add_parser("list", help="列出术语表")

    def handle(self, *args, action, **options):
        if action == "list":
            return self._list()
        # All or nothing: a refused term leaves the others unchanged too.
        with transaction.atomic():
            if action == "add":
                self._add(options["terms"], synonyms=options["synonyms"], note=options["note"])
            else:
                self._remove(options["terms"])

    def _list(self):
        for term in VocabularyTerm.objects.all():
            synonyms = "、".join(term.synonym_list())
            self.stdout.write("\t".join([term.term, synonyms, term.note]).rstrip())

    def _add(self, texts, *, synonyms, note):
        once = {fold(text.strip()): text for text in texts}.values()
        added = [self._checked(text, synonyms=synonyms, note=note) for text in once]
        for term in added:
            term.save()
            self.stdout.write(f"已添加“{term.term}”：{term.reindexed} 篇讲稿排队重新索引。")

    def _checked(self, text, *, synonyms, note):
        term = VocabularyTerm(term=text.strip(), synonyms=synonyms, note=note)
        try:
            terms.validate_term(text)
            term.full_clean()
        except ValidationError as error:
            raise CommandError(f"“{text.strip()}”未添加：{''.join(error.messages)}") from None
        return term

    def _remove(self, texts):
        stored = list(VocabularyTerm.objects.all())
        removed = []
        for text in texts:
            found = [t for t in stored if fold(t.term) == fold(text.strip())]
            if not found:
                raise CommandError(f"术语表中没有“{text.strip()}”，未做任何删除。")
            removed += found
        for term in {t.pk: t for t in removed}.values():
            term.delete()
            self.stdout.write(f"已删除“{term.term}”：{term.reindexed} 篇讲稿排队重新索引。")
