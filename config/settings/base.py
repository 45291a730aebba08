"""Settings shared by every environment. Secrets and machine paths come from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("ARCHIVE_DATA_DIR", BASE_DIR / "var")).resolve()

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    # search before haystack: its rebuild_index (safe beside a running indexer) replaces haystack's.
    "search",
    "haystack",
    "speeches",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Inside DatabaseUnavailableMiddleware: an unreachable database is a 503 here too.
    "search.middleware.VocabularyMiddleware",
    # Last, so its 429 answers still get every header above.
    "config.security.RateLimitMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# SQLite in ARCHIVE_DATA_DIR unless DATABASE_URL names another database.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'archive.sqlite3'}",
        conn_max_age=60,
        # A connection that died while idle (database restart) is replaced, not answered 503 once.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web workers, the indexer, imports) share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"

MEDIA_ROOT = DATA_DIR / "uploads"

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Uploads: originals are kept under DATA_DIR; anything larger is refused.
ARCHIVE_UPLOAD_MAX_BYTES = int(os.environ.get("ARCHIVE_UPLOAD_MAX_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = ARCHIVE_UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

ARCHIVE_PAGE_SIZE = 20

# Per-process memory cache: rendered address bodies are keyed by their updated_at, so a
# stale entry is never served and nothing needs invalidating across processes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
    # Rate-limit and login-failure counters: every worker process must see the same counts, and
    # files keep these per-request writes off SQLite's write lock. Several machines: memcached/redis.
    "throttle": {
        "BACKEND": "config.cache.ThrottleCache",
        "LOCATION": str(DATA_DIR / "throttle"),
        "OPTIONS": {"MAX_ENTRIES": 10000},
    },
}

# Security and cost bounds (config/security.py, config/throttle.py). A rate is "requests/seconds";
# "0" turns it off. Behind a reverse proxy every client has the proxy's address: set
# ARCHIVE_TRUST_X_FORWARDED_FOR=1 there (and only there), with the proxy replacing that header.
ARCHIVE_SEARCH_RATE = os.environ.get("ARCHIVE_SEARCH_RATE", "60/60")
ARCHIVE_LOGIN_RATE = os.environ.get("ARCHIVE_LOGIN_RATE", "5/900")
ARCHIVE_TRUST_X_FORWARDED_FOR = os.environ.get("ARCHIVE_TRUST_X_FORWARDED_FOR", "") == "1"
ARCHIVE_MAX_RESULTS = int(os.environ.get("ARCHIVE_MAX_RESULTS", 1000))
# X-Frame-Options DENY, nosniff, Referrer-Policy and COOP same-origin are Django's defaults.

HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "search.backend.ChineseWhooshEngine",
        "PATH": str(DATA_DIR / "whoosh_index"),
        "INCLUDE_SPELLING": False,
        "BATCH_SIZE": 500,
        # A failed index write must raise, never be logged and dropped.
        "SILENTLY_FAIL": False,
    },
}
# Index writes go through the queue in search/, drained by one indexer process.
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"
# One indexed model: skip haystack's extra django_ct query on every SearchQuerySet search.
HAYSTACK_LIMIT_TO_REGISTERED_MODELS = False
# Load jieba's dictionary and the folding table when the app starts, not on a reader's first
# search (prod: with `gunicorn --preload` the workers share them). Commands and tests load
# them when they first need them.
SEARCH_WARM_UP = False
# How often run_indexer looks for queued changes, in seconds.
SEARCH_INDEXER_POLL_S = 0.3

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "speeches": {"level": "INFO"},
        "search": {"level": "INFO"},
    },
}
