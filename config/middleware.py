"""While the database cannot be reached, answer 503 with Retry-After instead of a traceback.

Readers get a Chinese page (JSON under /api/) rendered without touching the database. The
site serves again as soon as the database is back: Django closes a connection that failed at
the end of its request, and the next request opens a new one; a persistent connection
(CONN_MAX_AGE) that died while idle is caught by the health check (conn_health_checks). The
middleware sits before sessions and authentication, which read the database lazily
(request.user, the session) from inside the views.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db.utils import InterfaceError, OperationalError
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from .security import retry_later

log = logging.getLogger(__name__)

# OperationalError: refused, dropped or timed-out connections, a locked or missing SQLite
# file. InterfaceError: a connection the driver already knows is closed. Other database
# errors (integrity, programming) are bugs and stay 500s.
UNREACHABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_note_unreachable, dispatch_uid=__name__)

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except UNREACHABLE as error:
            # The 500 handler itself needed the database.
            return database_unavailable(request, error)
        error = getattr(request, "_database_unreachable", None)
        if error is not None:
            # A layer inside this one (session saving, say) failed and became a 500 page,
            # or under DEBUG a traceback page: neither is what a reader should see.
            return database_unavailable(request, error)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, UNREACHABLE):
            return database_unavailable(request, exception)
        return None


def _note_unreachable(sender, request=None, **kwargs):
    """Remember on the request that an error turned into a 500 was an unreachable database."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, UNREACHABLE):
        request._database_unreachable = error


def database_unavailable(request, error):
    log.error("database unreachable, answered 503 for %s: %s", request.path, error)
    response = retry_later(
        request,
        status=503,
        detail=_("数据库暂时无法访问，请稍后再试。"),
        seconds=RETRY_AFTER_SECONDS,
        # No request context: the context processors would read request.user, a query.
        page=lambda: render_to_string("503.html"),
    )
    add_never_cache_headers(response)
    return response
