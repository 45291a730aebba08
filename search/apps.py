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
        # The vocabulary's words are added later, by search.vocabulary.refresh(), before the
        # first text is cut: the database is not read while apps load.
        if settings.SEARCH_WARM_UP:
            analysis.warm_up()
