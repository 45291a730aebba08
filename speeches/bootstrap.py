"""First-run set-up for `make run`: the seed record and an admin account, never overwriting."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command

from .models import Speech

ADMIN_USERNAME = "admin"


def load_fixtures_if_empty():
    """Load fixtures/ into an empty archive. An archive with records is left alone,
    so that a restart never reverts what staff have edited."""
    if Speech.objects.exists():
        return False
    call_command("loaddata", "seed", verbosity=0)
    return True


def ensure_admin(*, password=None):
    """Create the admin user once. Returns the one-time password when it had to invent one."""
    User = get_user_model()
    if User.objects.filter(is_superuser=True).exists():
        return None
    password = password or os.environ.get("ARCHIVE_ADMIN_PASSWORD")
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    User.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
    return generated or ""
