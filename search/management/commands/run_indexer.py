import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from search import queue, topics
from search.engine.analysis import jieba_tokenizer


class Command(BaseCommand):
    help = "索引进程：把排队的变更写入检索索引。全站只应运行一个。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="处理完当前队列后退出")

    def handle(self, *args, once=False, **options):
        jieba_tokenizer()  # loaded once, before the first task; the indexer makes no snippets
        with queue.indexer_lock() as acquired:
            if not acquired:
                raise CommandError("另一个索引进程正在运行。")
            if once:
                self.stdout.write(f"已处理 {queue.drain()} 篇讲稿。")
                return
            self.stdout.write("索引进程已启动。")
            poll = settings.SEARCH_INDEXER_POLL_S
            while True:
                close_old_connections()
                # Keywords and related addresses only when no change waits to be indexed.
                if not queue.drain() and not topics.catch_up():
                    time.sleep(poll)
