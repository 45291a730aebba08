"""WSGI entry point: gunicorn config.wsgi (production settings unless told otherwise)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_wsgi_application()

# jieba's dictionary and the folding table load once here, not on a reader's first search;
# with `gunicorn --preload` the workers share them.
from search.analysis import warm_up  # noqa: E402

warm_up()
