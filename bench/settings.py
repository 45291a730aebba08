"""Settings for benchmark runs: production-like base settings plus a do-nothing ceiling view.

Every run points ARCHIVE_DATA_DIR at a throwaway directory before Django starts, so the
database, uploads and index of all its processes live there and var/ is never touched.
"""

from config.settings.base import *  # noqa: F401,F403
from config.settings.base import DATA_DIR, HAYSTACK_CONNECTIONS

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
# One index shared by the bench, the rebuild, the indexer and the web workers.
HAYSTACK_CONNECTIONS = {
    "default": {**HAYSTACK_CONNECTIONS["default"], "PATH": str(DATA_DIR / "whoosh_index")}
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The load comes from one loopback client: a per-client rate limit would measure itself.
ARCHIVE_SEARCH_RATE = "0"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
