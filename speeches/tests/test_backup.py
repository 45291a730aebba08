"""export_archive / import_archive: a restore gives back every record and every original byte.

The archive is the seed fixture plus real uploads made through the import service: the raw
seed file, two short corpus addresses and a GBK copy of the seed whose speech was deleted
(its upload is kept). "An empty database" is this test's database with every row deleted,
its id sequences reset and its originals removed, as after `migrate` on a new machine; one
test runs the commands as processes against a freshly migrated SQLite file.
"""

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection

from speeches import backup, services
from speeches.importing.selectors import original_path
from speeches.management.commands.import_transcripts import read_metadata
from speeches.models import (
    ArchiveStamp,
    Event,
    Organization,
    Paragraph,
    Person,
    SourceFile,
    Speech,
    SpeechStatus,
)

pytestmark = [pytest.mark.django_db, pytest.mark.corpus]

CORPUS_FILES = ("0011.txt", "0007.txt")  # two short real addresses
NEW_FILE = "0010.txt"  # imported after a restore
PASSWORD = "restore-check-42"
ALWAYS_ARCHIVED = [
    Group,
    User,
    LogEntry,
    Organization,
    Person,
    Event,
    Speech,
    Paragraph,
    SourceFile,
    ArchiveStamp,
]


# -- helpers, also used by search/tests/test_backup_search.py -----------------------------


def fill_archive(*, seed_path, corpus_dir, status=SpeechStatus.PUBLISHED):
    """Uploads through the real import service on top of the seed fixture: {sha256: bytes}."""
    editor = User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    editors = Group.objects.create(name="编辑")
    editors.permissions.set(Permission.objects.filter(content_type__app_label="speeches"))
    editor.groups.add(editors)
    editor.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    uploads = {}

    def upload(data, filename, metadata=None, uploaded_by=editor):
        result = services.import_transcript(
            data=data, filename=filename, metadata=metadata, status=status, uploaded_by=uploaded_by
        )
        uploads[result.sha256] = data
        return result.speech

    upload(seed_path.read_bytes(), seed_path.name)
    speeches_dir = corpus_dir / "speeches"
    metadata = read_metadata(speeches_dir / "index.tsv")
    for name in CORPUS_FILES:
        upload((speeches_dir / name).read_bytes(), name, metadata[name], uploaded_by=None)
    gbk = seed_path.read_text(encoding="utf-8").encode("gbk")
    gone = upload(gbk, "seed-gbk.txt")
    gone.delete()  # the upload outlives its speech
    LogEntry.objects.create(
        user=editor,
        content_type=ContentType.objects.get_for_model(Speech),
        object_id=str(gone.pk),
        object_repr=gone.title,
        action_flag=CHANGE,
        change_message="[]",
    )
    return uploads


def wipe_archive():
    """Leave the database as `migrate` leaves a new one: no rows, ids from 1, no originals."""
    models = backup.archived_models()
    for _ in range(2):  # deleting speeches bumps the stamp once more
        for model in reversed(models):
            model._base_manager.all().delete()
    assert not any(model._base_manager.exists() for model in models)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DELETE FROM sqlite_sequence")
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "originals", ignore_errors=True)


def snapshot():
    """Every archived row, field by field, with its many-to-many links."""
    state = {}
    for model in backup.archived_models():
        rows = []
        for obj in model._base_manager.order_by("pk"):
            row = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
            for f in model._meta.many_to_many:
                row[f.name] = sorted(getattr(obj, f.name).values_list("pk", flat=True))
            rows.append(row)
        state[model._meta.label] = rows
    return state


@pytest.fixture
def archive(seed, seed_path, corpus_dir):
    return fill_archive(seed_path=seed_path, corpus_dir=corpus_dir)


@pytest.fixture
def exported(archive, tmp_path):
    target = tmp_path / "export"
    backup.export_archive(target=target)
    return target


def export_files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# -- round trip ---------------------------------------------------------------------------


def test_every_model_with_records_is_archived(archive):
    state = snapshot()
    for model in ALWAYS_ARCHIVED:
        assert state[model._meta.label], f"{model._meta.label} has no rows to compare"
    assert "search.IndexTask" not in state and "auth.Permission" not in state


def test_round_trip_gives_back_every_record_and_original(archive, exported, client):
    before = snapshot()
    published = list(Speech.objects.published())
    assert len(published) == 4 and Paragraph.objects.count() > 50
    wipe_archive()

    restored = backup.import_archive(source=exported)

    after = snapshot()
    for label, rows in before.items():
        assert after[label] == rows, label
    assert restored.records["speeches.paragraph"] == len(before["speeches.Paragraph"])
    assert restored.originals == len(archive) == 4
    for sha256, data in archive.items():
        assert original_path(sha256=sha256).read_bytes() == data
    for speech in published:
        page = client.get(speech.get_absolute_url())
        assert page.status_code == 200 and speech.title in page.content.decode()
    assert client.login(username="editor", password=PASSWORD)
    assert User.objects.get(username="editor").has_perm("speeches.change_speech")


def test_new_records_after_a_restore_get_fresh_ids(archive, exported, corpus_dir):
    highest = {m: m.objects.order_by("-pk").first().pk for m in (Speech, Paragraph, SourceFile)}
    wipe_archive()
    backup.import_archive(source=exported)

    data = (corpus_dir / "speeches" / NEW_FILE).read_bytes()
    result = services.import_transcript(data=data, filename=NEW_FILE)

    assert result.speech.pk > highest[Speech]
    assert result.source_file.pk > highest[SourceFile]
    assert min(result.speech.paragraphs.values_list("pk", flat=True)) > highest[Paragraph]
    assert original_path(sha256=result.sha256).read_bytes() == data


# -- refusals -----------------------------------------------------------------------------


def test_import_refuses_a_database_that_is_not_empty(exported):
    before = snapshot()
    with pytest.raises(CommandError, match="数据库不是空的（已有.*讲稿 4 条.*未做任何更改"):
        call_command("import_archive", str(exported))
    assert snapshot() == before


def _flip_a_byte(exported):
    path = sorted((exported / backup.ORIGINALS).iterdir())[0]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _remove_an_original(exported):
    sorted((exported / backup.ORIGINALS).iterdir())[-1].unlink()


def _edit_a_paragraph(exported):
    path = exported / "records" / "speeches.paragraph.json"
    path.write_text(path.read_text(encoding="utf-8").replace("轴承", "轮轴", 1), encoding="utf-8")


def _interrupt(exported):
    (exported / backup.MANIFEST).unlink()


@pytest.mark.parametrize(
    "damage, message",
    [
        (_flip_a_byte, "原始文件有 1 个问题：[0-9a-f]{64} 已损坏"),
        (_remove_an_original, "原始文件有 1 个问题：缺少 [0-9a-f]{64}"),
        (_edit_a_paragraph, "speeches.paragraph.json 已损坏"),
        (_interrupt, "没有 manifest.json"),
    ],
)
def test_import_refuses_a_damaged_export_and_changes_nothing(exported, damage, message):
    wipe_archive()
    damage(exported)
    with pytest.raises(CommandError, match=message):
        call_command("import_archive", str(exported))
    assert not any(model._base_manager.exists() for model in backup.archived_models())
    assert not (Path(settings.MEDIA_ROOT) / "originals").exists()


# -- writing ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_export_is_deterministic_and_refuses_to_overwrite(archive, tmp_path):
    # transaction=True: the export opens its own snapshot transaction, as on a live site.
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("export_archive", str(first), stdout=io.StringIO())
    call_command("export_archive", str(second), stdout=io.StringIO())

    one, two = export_files(first), export_files(second)
    manifests = [json.loads(files.pop(backup.MANIFEST)) for files in (one, two)]
    assert one == two
    for manifest in manifests:
        manifest.pop("created")  # the one field that names the time of the export
    assert manifests[0] == manifests[1]
    assert len(one) == len(manifests[0]["records"]) + len(archive)

    with pytest.raises(CommandError, match="已经有一份导出.*--force"):
        call_command("export_archive", str(first))
    call_command("export_archive", str(first), "--force", stdout=io.StringIO())
    refreshed = export_files(first)
    refreshed.pop(backup.MANIFEST)
    assert refreshed == two
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="有别的文件（notes.txt）"):
        call_command("export_archive", str(tmp_path / "elsewhere"), "--force")


def test_failed_export_leaves_the_previous_one_intact(exported):
    kept = export_files(exported)
    source = SourceFile.objects.filter(speech__isnull=False).order_by("pk").first()
    original_path(sha256=source.sha256).unlink()

    with pytest.raises(backup.ArchiveError, match=f"原始文件缺失：#{source.pk}"):
        backup.export_archive(target=exported, force=True)
    assert export_files(exported) == kept
    assert sorted(p.name for p in exported.iterdir()) == ["manifest.json", "originals", "records"]


# -- the commands against a freshly migrated database -------------------------------------


def test_commands_restore_into_a_freshly_migrated_database(tmp_path, seed_path):
    def manage(name, *args):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": f"sqlite:///{tmp_path / name}.sqlite3",
            "ARCHIVE_DATA_DIR": str(tmp_path / name),
        }
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,  # a hung command fails this test, not the whole run
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("live", "migrate", "-v0")
    shutil.copy(tmp_path / "live.sqlite3", tmp_path / "new.sqlite3")
    manage("live", "loaddata", "seed", "-v0")
    manage("live", "import_transcripts", str(seed_path), "--publish")
    manage("live", "export_archive", str(tmp_path / "backup"))

    out = manage("new", "import_archive", str(tmp_path / "backup"))
    assert "讲稿 2 条" in out and "原始文件 1 个" in out and "rebuild_search_index" in out
    manage("new", "export_archive", str(tmp_path / "again"))
    first, again = export_files(tmp_path / "backup"), export_files(tmp_path / "again")
    first.pop(backup.MANIFEST), again.pop(backup.MANIFEST)
    assert first == again
    assert "已索引 2 篇" in manage("new", "rebuild_search_index", "-v0")
    assert "索引与数据库一致" in manage("new", "check_search_index")
