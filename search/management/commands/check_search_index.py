from django.core.management.base import BaseCommand, CommandError

from search import drift, queue


class Command(BaseCommand):
    help = "比较检索索引与数据库，报告差异；--repair 修复。"

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="把有差异的讲稿重新排队并写入")

    def handle(self, *args, repair=False, **options):
        found = drift.check()
        for label, ids in (
            ("索引缺少", found.missing),
            ("索引多出", found.extra),
            ("索引过期", found.stale),
        ):
            if ids:
                self.stdout.write(f"{label} {len(ids)} 篇：{', '.join(map(str, ids[:50]))}")
        if not found.total:
            self.stdout.write("索引与数据库一致。")
            return
        if not repair:
            raise CommandError(f"发现 {found.total} 处差异。运行 --repair 修复。")
        drift.repair(found)
        with queue.indexer_lock() as free:
            # With no indexer running, apply the repair now; otherwise the indexer will.
            if free:
                queue.drain()
        self.stdout.write(f"已修复 {found.total} 处差异。")
