import pytest
from django.core.management import call_command
from haystack import connections

from search.indexing import drain
from speeches.models import Speech


def point_index_at(path):
    connections.connections_info["default"]["PATH"] = str(path)
    return connections.reload("default")


@pytest.fixture
def search_index(db, tmp_path):
    """An empty index of this test's own, filled by draining the queue (as the indexer does)."""
    old = connections.connections_info["default"]["PATH"]
    point_index_at(tmp_path / "whoosh_index")
    yield
    point_index_at(old)


@pytest.fixture
def seed(search_index):
    call_command("loaddata", "seed", verbosity=0)
    drain()
    return Speech.objects.get(title="发展新质生产力与轴承产业新机遇")
