import csv
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from speeches.importing.decoding import EXTENSIONS, check_size
from speeches.importing.errors import TranscriptImportError
from speeches.models import SpeechStatus
from speeches.services import import_transcript

# Each field and the columns it may come from, the first non-empty one winning.
METADATA_COLUMNS = {
    "title": ("title",),
    "speaker": ("speaker",),
    "date": ("date",),
    "event": ("occasion",),
    "kind": ("kind", "doc_type"),
}


class Command(BaseCommand):
    help = _("导入讲稿文件（.txt .md .docx .pdf）；PATH 可以是文件或文件夹。")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--publish", action="store_true", help=_("直接发布，而不是存为草稿"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查，不保存"))
        parser.add_argument(
            "--metadata",
            metavar="FILE.tsv",
            help=_("含 file、title、speaker、date、occasion、kind（或 doc_type）列的 TSV"),
        )

    def handle(self, *args, paths, publish, dry_run, metadata, **options):
        files = collect_files(paths)
        table = read_metadata(metadata) if metadata else {}
        status = SpeechStatus.PUBLISHED if publish else SpeechStatus.DRAFT
        counts = {"created": 0, "duplicate": 0, "failed": 0}
        bar = self.progress_bar(files)
        for path in bar or files:
            outcome, line = self.import_one(path, table.get(path.name), status, dry_run)
            counts[outcome] += 1
            # Lines go above a live progress bar instead of through it.
            (bar.write if bar else self.stdout.write)(f"{path}: {line}")
        self.stdout.write(
            _("共 %(n)d 个文件：新建 %(created)d，重复 %(duplicate)d，失败 %(failed)d%(dry)s")
            % {"n": len(files), **counts, "dry": _("（试运行，未保存）") if dry_run else ""}
        )
        if counts["failed"]:
            raise CommandError(_("%(n)d 个文件导入失败。") % {"n": counts["failed"]})

    def import_one(self, path, metadata, status, dry_run):
        try:
            check_size(path.stat().st_size)
            result = import_transcript(
                data=path.read_bytes(),
                filename=path.name,
                metadata=metadata,
                status=status,
                dry_run=dry_run,
            )
        except (TranscriptImportError, OSError) as error:
            return "failed", _("失败：%(reason)s") % {"reason": error}
        if result.duplicate_of:
            return "duplicate", _("duplicate of %(pk)d") % {"pk": result.duplicate_of.pk}
        line = _("新建 #%(pk)d") % {"pk": result.speech.pk} if result.speech else _("可以导入")
        line += f" {result.fields['title']}（{len(result.fields['paragraphs'])} 段）"
        for speech, score in result.near_duplicates:
            line += _("；与 #%(pk)d 相似 %(pct).0f%%") % {"pk": speech.pk, "pct": score * 100}
        return "created", line

    def progress_bar(self, files):
        if not self.stdout.isatty() or len(files) < 2:
            return None
        from tqdm import tqdm

        return tqdm(files, unit=_("个文件"), file=sys.stderr, leave=False)


def collect_files(paths):
    files = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in EXTENSIONS))
        elif path.exists():
            files.append(path)
        else:
            raise CommandError(_("找不到 %(path)s") % {"path": name})
    return files


def read_metadata(name):
    try:
        with open(name, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError as error:
        raise CommandError(_("无法读取元数据文件：%(error)s") % {"error": error}) from error
    if not rows or "file" not in rows[0]:
        raise CommandError(_("元数据文件需要 file 列。"))
    return {row["file"]: _fields(row) for row in rows}


def _fields(row):
    """A row's values by field; None where the TSV gives nothing, so detection fills it."""
    return {
        field: next((row[c] for c in columns if row.get(c)), None)
        for field, columns in METADATA_COLUMNS.items()
    }
