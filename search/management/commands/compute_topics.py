from django.core.management.base import BaseCommand

from search import topics


class Command(BaseCommand):
    help = "计算每篇讲稿的关键词和相关讲稿（按本档案的词频统计），并保存。"

    def handle(self, *args, **options):
        done = topics.compute_all()
        self.stdout.write(f"已计算 {done} 篇讲稿的关键词和相关讲稿。")
