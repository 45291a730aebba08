from collections import namedtuple

import pytest
from django.core.management import call_command

from search.queue import drain
from speeches.models import Speech

from .processes import environment


@pytest.fixture
def search_index(db, search_index):
    """The project-wide empty index (conftest.py), with a database; filled by drain()."""
    return search_index


@pytest.fixture
def seed(search_index):
    call_command("loaddata", "seed", verbosity=0)
    drain()
    return Speech.objects.get(title="发展新质生产力与轴承产业新机遇")


@pytest.fixture
def env(tmp_path, transactional_db):
    """Environment for real processes sharing this test's database (see processes.environment)."""
    return environment(tmp_path)


Corpus = namedtuple("Corpus", "folder files metadata")


@pytest.fixture(scope="session")
def corpus(corpus_dir):
    """The corpus addresses, in file order, and their metadata table."""
    folder = corpus_dir / "speeches"
    return Corpus(folder, sorted(folder.glob("[0-9]*.txt")), folder / "index.tsv")
