from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("检索")

    def ready(self):
        from speeches import pages

        from . import marking, signals

        signals.connect()
        pages.marker = marking.mark_address
