from django.core.management.base import BaseCommand
from tqdm import tqdm

from search import connection, rebuild


class Command(BaseCommand):
    help = "从数据库重建整个检索索引（多进程分词，单一写入），显示进度。"

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=None, help="分词进程数，默认为 CPU 核数")

    def handle(self, *args, workers=None, **options):
        total = connection.speech_index().index_queryset().count()
        with tqdm(
            total=total, unit="篇", desc="重建索引", disable=options["verbosity"] == 0
        ) as bar:
            n = rebuild.rebuild(progress=bar.update, workers=workers)
        self.stdout.write(f"已索引 {n} 篇已发布的讲稿。")
