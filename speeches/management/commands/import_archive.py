from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from speeches.backup import ArchiveError, import_archive


class Command(BaseCommand):
    help = _(
        "把 export_archive 导出的目录 DIR 恢复到空数据库（先运行 migrate）。"
        "之后请运行 rebuild_search_index 重建检索索引，并运行 render_pages 生成讲稿页面。"
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="DIR")

    def handle(self, *args, source, **options):
        try:
            restored = import_archive(source=source)
        except ArchiveError as error:
            raise CommandError(str(error)) from error
        rows = "，".join(
            f"{apps.get_model(label)._meta.verbose_name} {n} 条"
            for label, n in restored.records.items()
            if n
        )
        self.stdout.write(
            _("已导入：%(rows)s；原始文件 %(originals)d 个。")
            % {"rows": rows or _("没有记录"), "originals": restored.originals}
        )
        self.stdout.write(
            self.style.WARNING(
                _(
                    "检索索引和讲稿页面没有随之恢复：请运行 python manage.py rebuild_search_index"
                    " 和 python manage.py render_pages。"
                )
            )
        )
