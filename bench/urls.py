from django.http import HttpResponse
from django.urls import include, path


def ceiling(request):
    # Nothing but Django's request/response cycle and middleware: the best any page can do.
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/ceiling/", ceiling, name="bench-ceiling"),
    path("", include("config.urls")),
]
