from django.core.management.base import BaseCommand, CommandError

from search import indexing


class Command(BaseCommand):
    help = "比较检索索引与数据库，报告差异；--repair 修复。"

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="把有差异的讲稿重新排队并写入")

    def handle(self, *args, repair=False, **options):
        drift = indexing.check()
        for label, ids in (
            ("索引缺少", drift.missing),
            ("索引多出", drift.extra),
            ("索引过期", drift.stale),
        ):
            if ids:
                self.stdout.write(f"{label} {len(ids)} 篇：{', '.join(map(str, ids[:50]))}")
        if not drift.total:
            self.stdout.write("索引与数据库一致。")
            return
        if not repair:
            raise CommandError(f"发现 {drift.total} 处差异。运行 --repair 修复。")
        indexing.repair(drift)
        with indexing.indexer_lock() as free:
            # With no indexer running, apply the repair now; otherwise the indexer will.
            if free:
                indexing.drain()
        self.stdout.write(f"已修复 {drift.total} 处差异。")
