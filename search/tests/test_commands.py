import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from search import service
from search.connection import backend
from search.models import IndexTask
from search.queue import indexer_lock


def run(*args, out=None):
    out = out or StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_run_indexer_once_drains_the_queue(search_index):
    call_command("loaddata", "seed", verbosity=0)
    assert IndexTask.objects.exists()
    assert "已处理 1 篇" in run("run_indexer", "--once")
    assert not IndexTask.objects.exists()
    assert service.matching_ids("轴承产业")


def test_second_indexer_refuses_to_start(search_index):
    errors = []

    def second():
        # Another thread opens the lock file anew, as another process would.
        try:
            run("run_indexer", "--once")
        except CommandError as exc:
            errors.append(str(exc))

    with indexer_lock() as held:
        assert held
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    assert errors == ["另一个索引进程正在运行。"]


def test_rebuild_reports_progress_and_count(seed, capsys):
    IndexTask.objects.all().delete()
    with backend().writer_lock():
        backend().apply(None, delete=[f"speeches.speech.{seed.pk}"])
    assert "已索引 1 篇" in run("rebuild_search_index", "--workers", "1")
    assert "重建索引: 100%" in capsys.readouterr().err
    assert service.matching_ids("轴承") == {seed.pk}


def test_check_reports_and_repairs_drift(seed):
    with backend().writer_lock():
        backend().apply(None, delete=[f"speeches.speech.{seed.pk}"])
    with pytest.raises(CommandError, match="发现 1 处差异"):
        run("check_search_index")
    assert "已修复 1 处差异" in run("check_search_index", "--repair")
    assert "索引与数据库一致" in run("check_search_index")
    assert service.matching_ids("轴承") == {seed.pk}


def test_check_sees_stale_entries(seed):
    from speeches.models import Paragraph

    # Writes that bypass the signals (as a raw SQL fix would) leave the index stale.
    assert service.matching_ids("黄浦江") == {seed.pk}
    Paragraph.objects.filter(speech=seed).update(text="改过的正文")
    type(seed).objects.filter(pk=seed.pk).update(updated_at=timezone.now())
    out = StringIO()
    with pytest.raises(CommandError):
        run("check_search_index", out=out)
    assert f"索引过期 1 篇：{seed.pk}" in out.getvalue()
    run("check_search_index", "--repair")
    assert service.matching_ids("改过的正文") == {seed.pk} and not service.matching_ids("黄浦江")
