from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from speeches.backup import ArchiveError, export_archive


class Command(BaseCommand):
    help = _("把全部记录和上传的原始文件导出到目录 DIR，可用 import_archive 恢复。")

    def add_arguments(self, parser):
        parser.add_argument("target", metavar="DIR")
        parser.add_argument("--force", action="store_true", help=_("覆盖 DIR 里已有的一份导出"))

    def handle(self, *args, target, force, **options):
        try:
            manifest = export_archive(target=target, force=force)
        except ArchiveError as error:
            raise CommandError(str(error)) from error
        records = sum(entry["count"] for entry in manifest["records"])
        self.stdout.write(
            _("已导出到 %(dir)s：%(records)d 条记录，%(originals)d 个原始文件。")
            % {"dir": target, "records": records, "originals": len(manifest["originals"])}
        )
        self.stdout.write(
            self.style.WARNING(_("导出中含有用户的密码哈希，请像保管密码一样保管它。"))
        )
