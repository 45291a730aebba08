from config.middleware import UNREACHABLE, database_unavailable

from . import vocabulary


class VocabularyMiddleware:
    """Before a search view cuts a query: the vocabulary's latest change loaded into this
    worker. One primary-key read, only where there is a query to cut (`q`); address pages
    and the rest never cut text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not (request.GET.get("q") and view_func.__module__.startswith("search.")):
            return None
        try:
            vocabulary.refresh()
        except UNREACHABLE as error:
            # As DatabaseUnavailableMiddleware answers for views: process_view's errors never
            # reach its process_exception, and would be logged as a 500 first.
            return database_unavailable(request, error)
        return None
