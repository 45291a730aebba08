import pytest
from django.core.management import call_command

from speeches.models import Speech


@pytest.fixture
def seed(db):
    call_command("loaddata", "seed", verbosity=0)
    return Speech.objects.get(title="发展新质生产力与轴承产业新机遇")
