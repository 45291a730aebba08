"""After a restore into an empty database and a rebuilt index, searches find what they found before."""

import pytest
from django.core.management import call_command

from conftest import point_index_at
from search import service
from search.drift import check
from search.models import IndexTask
from search.queue import drain
from speeches import backup
from speeches.models import Speech
from speeches.tests.test_backup import fill_archive, wipe_archive

pytestmark = pytest.mark.corpus

QUERIES = [
    "新质生产力",
    "轴承",
    "軸承",
    "“轴承产业”",
    "农业 工业",
    "“第四个五年计划”",
    "speaker:周恩来",
    "year:1960-1975",
    "农业 -轴承",
]


def found(q):
    outcome = service.search(query=q, facets=False)
    return outcome.count, [(hit.speech.pk, hit.score) for hit in outcome.hits]


def ranked(result):
    """A found() result in order, speeches of equal score as one group.

    Updates leave the replaced documents in Whoosh's statistics until a merge, which moves
    every score a little, and put the updated document last, which decides between equal
    scores (the seed fixture and the uploaded seed file are the same text).
    """
    count, hits = result
    groups = {}
    for pk, score in hits:
        groups.setdefault(score, []).append(pk)
    return count, [sorted(pks) for pks in groups.values()]


def test_search_finds_the_same_after_a_restore(seed, seed_path, corpus_dir, tmp_path):
    fill_archive(seed_path=seed_path, corpus_dir=corpus_dir)
    drain()
    before = {q: found(q) for q in QUERIES}
    assert all(hits for _count, hits in before.values()), before
    assert len(before["轴承"][1]) == 2 and before["轴承"] == before["軸承"]
    backup.export_archive(target=tmp_path / "export")
    wipe_archive()
    # A new machine: an empty index directory.
    point_index_at(tmp_path / "new_index")

    backup.import_archive(source=tmp_path / "export")
    call_command("rebuild_search_index", "--workers", "1", verbosity=0)

    assert {q: found(q) for q in QUERIES} == before
    # The restore's raw saves also queued every speech; applying the queue changes nothing.
    restored = set(Speech.objects.values_list("pk", flat=True))
    assert restored <= set(IndexTask.objects.values_list("speech_id", flat=True))
    drain()
    assert check().total == 0
    assert {q: ranked(found(q)) for q in QUERIES} == {q: ranked(r) for q, r in before.items()}
