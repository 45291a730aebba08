import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from speeches.models import Speech


@pytest.fixture
def seed(db):
    call_command("loaddata", "seed", verbosity=0)
    return Speech.objects.get(title="发展新质生产力与轴承产业新机遇")


@pytest.fixture
def boss():
    User.objects.create_superuser("boss", password="pw-123456789")
    client = Client()
    client.login(username="boss", password="pw-123456789")
    return client
