import pytest
from django.core.management import call_command

from search.indexing import drain
from speeches.models import Speech


@pytest.fixture
def search_index(db, search_index):
    """The project-wide empty index (conftest.py), with a database; filled by drain()."""
    return search_index


@pytest.fixture
def seed(search_index):
    call_command("loaddata", "seed", verbosity=0)
    drain()
    return Speech.objects.get(title="发展新质生产力与轴承产业新机遇")
