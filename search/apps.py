from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("检索")

    def ready(self):
        from django.conf import settings

        from speeches import pages

        from . import marking, signals
        from .engine import analysis

        signals.connect()
        pages.marker = marking.mark_address
        analysis.configure(extra_words=settings.SEARCH_EXTRA_WORDS)
        if settings.SEARCH_WARM_UP:
            analysis.warm_up()
