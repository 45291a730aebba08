from django.core.management.base import BaseCommand

from speeches import bootstrap


class Command(BaseCommand):
    help = "Load fixtures/ into an empty archive and create the admin user once."

    def handle(self, *args, **options):
        if bootstrap.load_fixtures_if_empty():
            self.stdout.write("已载入示例讲稿（fixtures/）。")
        generated = bootstrap.ensure_admin()
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"已创建管理员 {bootstrap.ADMIN_USERNAME}，一次性密码：{generated}"
                    "（请登录后修改，或设置 ARCHIVE_ADMIN_PASSWORD）"
                )
            )
        elif generated == "":
            self.stdout.write(
                f"已创建管理员 {bootstrap.ADMIN_USERNAME}（密码取自 ARCHIVE_ADMIN_PASSWORD）。"
            )
