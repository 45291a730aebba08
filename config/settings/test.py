import tempfile

from .base import *  # noqa: F401,F403
from .base import os

DEBUG = False
SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = os.environ.get("ARCHIVE_TEST_LANGUAGE", "zh-hans")
WHITENOISE_USE_FINDERS = True


# Search tests never touch var/: each test run gets its own index directory.
HAYSTACK_CONNECTIONS = {
    "default": {
        **HAYSTACK_CONNECTIONS["default"],  # noqa: F405
        "PATH": tempfile.mkdtemp(prefix="archive-test-index-"),
    }
}

# Rate limits off, so the suite and load tests are never refused; the security tests turn them
# on. Counters go to a directory of this run's own, never to var/.
ARCHIVE_SEARCH_RATE = "0"
CACHES = {
    **CACHES,  # noqa: F405
    "throttle": {
        **CACHES["throttle"],  # noqa: F405
        "LOCATION": tempfile.mkdtemp(prefix="archive-test-throttle-"),
    },
}
