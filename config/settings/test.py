import atexit
import shutil
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


# Tests never touch var/: each run gets a directory of its own for the index and the counters,
# removed when the run ends.
_RUN_DIR = tempfile.mkdtemp(prefix="archive-test-")
atexit.register(shutil.rmtree, _RUN_DIR, ignore_errors=True)
HAYSTACK_CONNECTIONS = {
    "default": {
        **HAYSTACK_CONNECTIONS["default"],  # noqa: F405
        "PATH": os.path.join(_RUN_DIR, "index"),
    }
}

# Rate limits off, so the suite and load tests are never refused; the security tests turn them
# on.
ARCHIVE_SEARCH_RATE = "0"
CACHES = {
    **CACHES,  # noqa: F405
    "throttle": {
        **CACHES["throttle"],  # noqa: F405
        "LOCATION": os.path.join(_RUN_DIR, "throttle"),
    },
}
