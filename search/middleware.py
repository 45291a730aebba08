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
        if request.GET.get("q") and view_func.__module__.startswith("search."):
            vocabulary.refresh()
