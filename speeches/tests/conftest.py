import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from speeches.models import Speech

from .factories import EDITOR_PERMISSIONS, STAFF_PASSWORD, make_staff


@pytest.fixture
def seed(db):
    call_command("loaddata", "seed", verbosity=0)
    return Speech.objects.get(title="发展新质生产力与轴承产业新机遇")


@pytest.fixture
def superuser():
    return User.objects.create_superuser("boss", password=STAFF_PASSWORD)


@pytest.fixture
def editor(db):
    """Staff who may upload, edit and view addresses, and nothing else."""
    return make_staff("editor", *EDITOR_PERMISSIONS)


@pytest.fixture
def boss(superuser):
    """A client logged in as the superuser."""
    client = Client()
    client.force_login(superuser)
    return client
