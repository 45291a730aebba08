from django.conf import settings
from django.core.management.base import BaseCommand

from speeches import services
from speeches.models import Speech

BATCH = 200


class Command(BaseCommand):
    help = (
        "Render and store readers' address pages that are missing or out of date, in every "
        "language of LANGUAGES (after a deploy or a restore)."
    )

    def handle(self, *args, **options):
        ids = list(Speech.objects.published().values_list("pk", flat=True))
        # A save stores only the site language's page; the others wait for this command and
        # are rendered live meanwhile.
        for language, _name in settings.LANGUAGES:
            for start in range(0, len(ids), BATCH):
                services.store_speech_pages(
                    speech_ids=ids[start : start + BATCH], language=language
                )
        self.stdout.write(f"已检查 {len(ids)} 篇讲稿的页面（{len(settings.LANGUAGES)} 种语言）。")
