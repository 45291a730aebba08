from .base import *  # noqa: F401,F403
from .base import os

# Off unless asked for (DJANGO_DEBUG=1, `make run DEBUG=1`): readers of `make run` get the
# archive's own 404 and 500 pages, not Django's debug page listing every URL and setting.
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret")
# Other names this machine answers to (`make run HOST=0.0.0.0:8000` serving a LAN) are added
# through DJANGO_ALLOWED_HOSTS.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", *ALLOWED_HOSTS]  # noqa: F405
# Static files come from whitenoise, with or without DEBUG: runserver serves them only under it.
WHITENOISE_USE_FINDERS = True
