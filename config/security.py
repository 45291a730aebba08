"""Response headers, per-client rate limits and bounded paging: what keeps the public site cheap to
serve and hard to abuse. Settings: ARCHIVE_SEARCH_RATE, ARCHIVE_TRUST_X_FORWARDED_FOR,
ARCHIVE_MAX_RESULTS (see config/settings/base.py)."""

from functools import wraps

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from . import throttle
from .throttle import client_id, parse_rate

# No inline script anywhere: every script is a file under /static/, so an injected <script> or
# on…= attribute does not run. Django's admin puts a <style> block in some pages, and style
# cannot run code, so the admin alone also allows inline styles.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
ADMIN_CSP = {**CSP, "style-src": "'self' 'unsafe-inline'"}
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
# The expensive reads: a full-text search, and the API that scripts page through. Other views
# that scripts could fetch in bulk (downloads, the search feed) take @rate_limited.
RATE_LIMITED_PREFIXES = ("/search/", "/api/")


def _policy(directives):
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response. The other headers
    (nosniff, Referrer-Policy, COOP, X-Frame-Options) come from Django's own middleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.public = _policy(CSP)
        self.admin = _policy(ADMIN_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        is_admin = request.path_info.startswith("/admin/")
        response.headers.setdefault(
            "Content-Security-Policy", self.admin if is_admin else self.public
        )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RateLimitMiddleware:
    """At most ARCHIVE_SEARCH_RATE requests per client to search and the API; then 429."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(RATE_LIMITED_PREFIXES):
            refused = over_the_rate(request)
            if refused:
                return refused
        return self.get_response(request)


def over_the_rate(request):
    """Count the request against ARCHIVE_SEARCH_RATE: a 429 answer past it, else None. Search,
    the API and the downloads share one count per client."""
    rate = parse_rate(settings.ARCHIVE_SEARCH_RATE)
    retry_after = rate and throttle.hit("search", client_id(request), *rate)
    return too_many_requests(request, retry_after) if retry_after else None


def rate_limited(view):
    """The view answers at most ARCHIVE_SEARCH_RATE requests per client, as search does."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return over_the_rate(request) or view(request, *args, **kwargs)

    return wrapper


def too_many_requests(request, retry_after):
    message = _("请求过于频繁，请 %(seconds)d 秒后再试。") % {"seconds": retry_after}

    def page():
        return render_to_string("429.html", {"message": message}, request)

    return retry_later(request, status=429, detail=message, seconds=retry_after, page=page)


def retry_later(request, *, status, detail, seconds, page):
    """An answer that says when to come back (Retry-After): JSON for the API, else `page()`."""
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"detail": detail, "retry_after": seconds},
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = HttpResponse(page(), status=status)
    response["Retry-After"] = str(seconds)
    return response


def max_pages(per_page):
    """How many pages of `per_page` fit in the result window ARCHIVE_MAX_RESULTS."""
    return max(1, settings.ARCHIVE_MAX_RESULTS // per_page)


class BoundedPaginator(Paginator):
    """Numbers only the pages within ARCHIVE_MAX_RESULTS: a deep page costs a large OFFSET (or
    a deep ranking) and serves no reader; filters and sorting reach the rest. The count stays
    true, and a page past the window or the end is answered with the last allowed page."""

    @property
    def num_pages(self):
        return min(super().num_pages, max_pages(self.per_page))


def bounded_page_number(value, per_page):
    """A ?page= value as a page number within the result window (1 if it is not a number)."""
    text = str(value or "")
    number = int(text) if text.isdigit() and len(text) < 10 else 1
    return min(max(1, number), max_pages(per_page))
