"""Counters that every web worker shares (the "throttle" cache): request rates per client, and
failed staff logins per (client, user name).

Counts are read and written without a lock, so two workers answering the same client at the
same instant may count one request too few; a limit is a guard, not an invoice.
"""

import hashlib
import ipaddress
import logging
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

ALIAS = "throttle"
log = logging.getLogger(__name__)


def client_id(request):
    """Who is asking, for limits: the peer address, or the client a trusted proxy names.

    Only with ARCHIVE_TRUST_X_FORWARDED_FOR on is the first X-Forwarded-For hop believed; the
    proxy must then replace that header, never append to what the client sent. An IPv6 client
    counts as its /64, which one host can otherwise rotate through freely.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if settings.ARCHIVE_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        address = forwarded.split(",")[0].strip() or address
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100] or "unknown"
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped:
        return str(mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def parse_rate(value):
    """'60/60' → (60, 60): at most 60 requests per 60 seconds; '0' or '' → None (no limit)."""
    text = str(value or "0").strip()
    try:
        count, _slash, seconds = text.partition("/")
        count, seconds = int(count), int(seconds or 60)
    except ValueError:
        raise ImproperlyConfigured(f"A rate must look like 60/60, not {value!r}.") from None
    if count < 0 or seconds <= 0:
        raise ImproperlyConfigured(f"A rate must look like 60/60, not {value!r}.")
    return (count, seconds) if count else None


def _store():
    return caches[ALIAS]


def _key(scope, ident):
    # Hashed: user names and addresses may hold characters some cache backends refuse in keys.
    return f"{scope}:" + hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()


def _now():
    return time.time()


def _seconds(value):
    return max(1, math.ceil(value))


def hit(scope, ident, limit, period):
    """Count one request of `ident` in its current window of `period` seconds.

    0 when it is allowed, else how many seconds until the window ends. Refused requests do
    not count, so a client that waits out the window starts afresh.
    """
    now = _now()
    key = _key(scope, ident)
    start, count = _store().get(key) or (now, 0)
    if now >= start + period:
        start, count = now, 0
    if count >= limit:
        return _seconds(start + period - now)
    _store().set(key, (start, count + 1), timeout=_seconds(start + period - now) + 1)
    return 0


# -- staff login ---------------------------------------------------------------------------


def _login_rate():
    return parse_rate(settings.ARCHIVE_LOGIN_RATE)


def _recent_failures(key, period, now):
    return [t for t in _store().get(key, []) if t > now - period]


def login_retry_after(ident):
    """Seconds until `ident` may try to log in again; 0 if it may now."""
    rate = _login_rate()
    if not rate:
        return 0
    limit, period = rate
    now = _now()
    failures = _recent_failures(_key("login", ident), period, now)
    if len(failures) < limit:
        return 0
    # Blocked until the oldest of the last `limit` failures leaves the window.
    return _seconds(failures[-limit] + period - now)


def record_login_failure(ident):
    rate = _login_rate()
    if not rate:
        return
    limit, period = rate
    now = _now()
    key = _key("login", ident)
    failures = _recent_failures(key, period, now)[-limit:] + [now]
    _store().set(key, failures, timeout=period + 1)
    if len(failures) == limit:
        client, _newline, username = ident.partition("\n")
        log.warning("admin login locked for %r from %s after %d failures", username, client, limit)


def clear_login_failures(ident):
    _store().delete(_key("login", ident))


def login_ident(request, username):
    client = client_id(request) if request is not None else "unknown"
    return f"{client}\n{(username or '').strip().casefold()}"


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin login form, refusing even a right password after too many wrong ones from the
    same client for the same user name; a successful login clears that count."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": _("登录失败次数过多，已暂时锁定。请 %(minutes)d 分钟后再试。"),
    }

    def clean(self):
        ident = login_ident(self.request, self.cleaned_data.get("username"))
        wait = login_retry_after(ident)
        if wait:
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": math.ceil(wait / 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            record_login_failure(ident)
            raise
        if self.get_user() is not None:
            clear_login_failures(ident)
        return cleaned
