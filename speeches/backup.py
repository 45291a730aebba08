"""Export the whole archive to a directory, and restore it into an empty database.

An export directory holds:

    manifest.json                format, time, migrations, and per records file its count and SHA-256
    records/<app>.<model>.json   Django JSON, ordered by pk; auth rows referenced by natural key
    originals/<sha256>           the bytes of every SourceFile, named by their SHA-256

manifest.json is written last, so a directory without one is never a finished export.
The search index is not exported: it is derived from the records (rebuild_search_index).
"""

import datetime
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import django
from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Prefetch
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from .importing.selectors import SHA256, original_path
from .models import SourceFile
from .services import store_original

FORMAT = "speech-archive-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RECORDS = "records"
ORIGINALS = "originals"
TMP_PREFIX = ".tmp-"
CHUNK = 1 << 20
BATCH = 1000
# Not exported: recreated by migrate (content types, permissions), not worth keeping
# (sessions: everyone logs in again), or derived from the records (the search queue, the
# rendered address pages, the vocabulary's version).
SKIPPED = {
    "contenttypes",
    "sessions",
    "auth.permission",
    "search.indextask",
    "search.namegram",
    "search.vocabularystamp",
    "speeches.renderedpage",
}
# Loading speeches bumps the stamp (speeches.signals); loading it last restores its value.
LOADED_LAST = ("speeches.archivestamp",)
# Rows that `migrate` itself writes (the first vocabulary): a freshly migrated database counts
# as empty, and a restore replaces them with the export's.
REPLACED = ("search.vocabularyterm",)


class ArchiveError(Exception):
    """An export or restore that was refused; the message says why and what to do."""


@dataclass
class Restored:
    records: dict  # model label -> rows restored
    originals: int


# -- which models, in which order --------------------------------------------------------


def archived_models():
    """Every model that holds records, each after the models it refers to."""
    models = [
        model
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.app_label not in SKIPPED
        and model._meta.label_lower not in SKIPPED
    ]
    ordered = _dependency_order(models)
    last = [m for m in ordered if m._meta.label_lower in LOADED_LAST]
    return [m for m in ordered if m not in last] + last


def _dependency_order(models):
    pending, placed = list(models), []
    while pending:
        ready = next((m for m in pending if _references(m, models) <= set(placed)), pending[0])
        pending.remove(ready)
        placed.append(ready)
    return placed


def _references(model, models):
    return {
        field.related_model
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.related_model in models
    } - {model}


def _label(model):
    return model._meta.label_lower


# -- export -------------------------------------------------------------------------------


def export_archive(*, target, force=False):
    """Write every record and every original into `target`; return the manifest.

    The export is written into target/.tmp-… and moved into place when complete, so an
    interrupted export never leaves a manifest. A finished export is replaced only with
    `force`; nothing but this function's own files is ever deleted.
    """
    target = Path(target)
    _check_target(target, force=force)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=target))
    try:
        manifest = _write_export(staging)
        _move_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _check_target(target, *, force):
    if target.exists() and not target.is_dir():
        raise ArchiveError(_("%(dir)s 不是目录。") % {"dir": target})
    if not target.exists():
        return
    present = {p.name for p in target.iterdir() if not p.name.startswith(TMP_PREFIX)}
    foreign = sorted(present - {MANIFEST, RECORDS, ORIGINALS})
    if foreign:
        raise ArchiveError(
            _("目录 %(dir)s 里有别的文件（%(names)s）；请指定一个空目录或新目录。")
            % {"dir": target, "names": "、".join(foreign[:5])}
        )
    if present and not force:
        raise ArchiveError(
            _("目录 %(dir)s 里已经有一份导出；要覆盖它请加 --force，或指定一个新目录。")
            % {"dir": target}
        )


def _write_export(staging):
    (staging / RECORDS).mkdir()
    (staging / ORIGINALS).mkdir()
    with _snapshot():
        records = [_write_records(model, staging / RECORDS) for model in archived_models()]
        sources = list(
            SourceFile.objects.order_by("sha256").values_list(
                "pk", "sha256", "size", "original_name"
            )
        )
        migrations = _applied_migrations()
    # Originals are never changed once their row exists, so they need no snapshot.
    originals = [_export_original(staging / ORIGINALS, *source) for source in sources]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": timezone.now().isoformat(),
        "django": django.get_version(),
        "migrations": migrations,
        "records": records,
        "originals": originals,
    }
    _write_durably(staging / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest


@contextmanager
def _snapshot():
    """One consistent view of all tables while the site keeps writing."""
    if connection.in_atomic_block:
        # The caller's transaction already is the view.
        yield
    elif connection.vendor == "sqlite":
        # Django opens SQLite transactions IMMEDIATE, which would stop every writer for the
        # whole export; a deferred read transaction is a WAL snapshot that blocks no one.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
    else:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield


class _ExactJSONEncoder(DjangoJSONEncoder):
    # DjangoJSONEncoder rounds times to milliseconds; a restore must give back the same values.
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def _write_records(model, folder):
    path = folder / f"{_label(model)}.json"
    count = 0

    def rows():
        nonlocal count
        for row in _export_queryset(model).iterator(chunk_size=BATCH):
            count += 1
            yield row

    with open(path, "w", encoding="utf-8", newline="\n") as out:
        serializers.serialize(
            "json",
            rows(),
            stream=out,
            indent=2,
            use_natural_foreign_keys=True,
            cls=_ExactJSONEncoder,
        )
        _flush(out)
    return {
        "model": _label(model),
        "file": f"{RECORDS}/{path.name}",
        "count": count,
        "sha256": _file_sha256(path),
    }


def _export_queryset(model):
    """By pk, with what natural keys need fetched in bulk rather than row by row."""
    queryset = model._base_manager.order_by("pk")
    by_natural_key = [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and hasattr(f.related_model, "natural_key")
    ]
    if by_natural_key:
        queryset = queryset.select_related(*by_natural_key)
    many = [
        Prefetch(f.name, queryset=_related_queryset(f.related_model))
        for f in model._meta.many_to_many
        if f.remote_field.through._meta.auto_created
    ]
    return queryset.prefetch_related(*many) if many else queryset


def _related_queryset(model):
    # A stable order makes two exports of one database byte-identical.
    queryset = model._base_manager.select_related()
    return queryset if queryset.ordered else queryset.order_by("pk")


def _applied_migrations():
    applied = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def _export_original(folder, pk, sha256, size, original_name):
    source = original_path(sha256=sha256)
    where = {"pk": pk, "name": original_name, "path": source}
    if not source.is_file():
        raise ArchiveError(_("原始文件缺失：#%(pk)d %(name)s（应在 %(path)s）。") % where)
    digest, copied = _copy_hashing(source, folder / sha256)
    if digest != sha256 or copied != size:
        raise ArchiveError(
            _("原始文件已损坏：#%(pk)d %(name)s（%(path)s 的内容与记录的 SHA-256 不符）。") % where
        )
    return {"sha256": sha256, "size": size}


def _move_into_place(staging, target):
    # The old manifest goes first and the new one comes last: at no moment does the
    # directory hold a manifest beside files it does not describe.
    for name in (MANIFEST, RECORDS, ORIGINALS):
        _remove(target / name)
    for name in (RECORDS, ORIGINALS):
        os.replace(staging / name, target / name)
    _sync_directory(target)
    os.replace(staging / MANIFEST, target / MANIFEST)
    _sync_directory(target)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


# -- import -------------------------------------------------------------------------------


def import_archive(*, source):
    """Restore an export into an empty database; return what was restored.

    Everything is checked before anything is written: the database is empty and migrated,
    the manifest is readable, and every records file and original matches its SHA-256.
    The records are restored in one transaction with their primary keys, and the originals
    are copied under MEDIA_ROOT. The search index is not touched: run rebuild_search_index.
    """
    source = Path(source)
    manifest = read_manifest(source)
    _check_empty()
    _check_migrations(manifest)
    entries = _check_records(source, manifest)
    originals = _check_originals(source, manifest)
    written = []
    try:
        with transaction.atomic():
            _check_empty()
            for model, _entry in entries:
                if _label(model) in REPLACED:
                    model._base_manager.all().delete()
            counts = _load_records(source, entries, originals)
            _reset_sequences([model for model, _entry in entries])
            _restore_originals(source, originals, written)
    except BaseException:
        # The rows were rolled back; the bytes copied for them go too.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return Restored(records=counts, originals=len(originals))


def read_manifest(source):
    if not source.is_dir():
        raise ArchiveError(_("找不到导出目录 %(dir)s。") % {"dir": source})
    path = source / MANIFEST
    if not path.is_file():
        raise ArchiveError(
            _("%(dir)s 里没有 manifest.json：这不是一份完整的导出（也许导出中途被打断了）。")
            % {"dir": source}
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest["format"] != FORMAT:
            raise ArchiveError(_("%(dir)s 不是讲稿库的导出。") % {"dir": source})
        if manifest["format_version"] != FORMAT_VERSION:
            raise ArchiveError(
                _("导出格式版本 %(version)s 不受本程序支持。")
                % {"version": manifest["format_version"]}
            )
        _check_manifest_shape(manifest)
    except (ValueError, KeyError, TypeError) as error:
        raise ArchiveError(_("manifest.json 已损坏，无法读取。")) from error
    return manifest


def _check_manifest_shape(manifest):
    for entry in manifest["records"]:
        if entry["file"] != f"{RECORDS}/{entry['model']}.json" or entry["count"] < 0:
            raise ValueError(entry)
        if not SHA256.fullmatch(entry["sha256"]):
            raise ValueError(entry)
    for original in manifest["originals"]:
        if not SHA256.fullmatch(original["sha256"]) or original["size"] < 0:
            raise ValueError(original)
    if not isinstance(manifest["migrations"], dict):
        raise ValueError(manifest["migrations"])


def _check_empty():
    present = [
        (model, n)
        for model in archived_models()
        if _label(model) not in REPLACED and (n := model._base_manager.count())
    ]
    if present:
        rows = "、".join(f"{model._meta.verbose_name} {n} 条" for model, n in present)
        raise ArchiveError(
            _(
                "数据库不是空的（已有%(rows)s）。只能导入到刚运行过 migrate 的空数据库，"
                "未做任何更改。"
            )
            % {"rows": rows}
        )


def _check_migrations(manifest):
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise ArchiveError(_("数据库还没有迁移到当前版本，请先运行 python manage.py migrate。"))
    known = set(executor.loader.disk_migrations)
    for migration in executor.loader.disk_migrations.values():
        known.update(migration.replaces)
    exported_apps = {entry["model"].split(".")[0] for entry in manifest["records"]}
    unknown = sorted(
        f"{app}.{name}"
        for app, names in manifest["migrations"].items()
        if app in exported_apps
        for name in names
        if (app, name) not in known
    )
    if unknown:
        raise ArchiveError(
            _("这份导出来自更新的程序版本（本程序没有迁移 %(names)s）；请先升级程序再导入。")
            % {"names": "、".join(unknown[:5])}
        )


def _check_records(source, manifest):
    """[(model, entry)] in loading order, after every file matched its SHA-256."""
    known = {_label(model): model for model in archived_models()}
    by_model = {}
    for entry in manifest["records"]:
        model = known.get(entry["model"])
        if model is None:
            raise ArchiveError(
                _("导出中有本程序不认识的数据：%(model)s。") % {"model": entry["model"]}
            )
        path = source / entry["file"]
        if not path.is_file():
            raise ArchiveError(_("导出中缺少记录文件 %(file)s。") % {"file": entry["file"]})
        if _file_sha256(path) != entry["sha256"]:
            raise ArchiveError(
                _("记录文件 %(file)s 已损坏（内容与 manifest.json 中的 SHA-256 不符）。")
                % {"file": entry["file"]}
            )
        by_model[model] = entry
    return [(model, by_model[model]) for model in known.values() if model in by_model]


def _check_originals(source, manifest):
    """{sha256: size} of the originals, after each one's bytes matched its name."""
    problems, originals = [], {}
    for original in manifest["originals"]:
        sha256, size = original["sha256"], original["size"]
        path = source / ORIGINALS / sha256
        if not path.is_file():
            problems.append(_("缺少 %(sha)s") % {"sha": sha256})
            continue
        digest, length = _hash_file(path)
        if digest != sha256 or length != size:
            problems.append(_("%(sha)s 已损坏（内容与 SHA-256 不符）") % {"sha": sha256})
        originals[sha256] = size
    if problems:
        raise ArchiveError(
            _("导出中的原始文件有 %(n)d 个问题：%(list)s。未导入任何内容。")
            % {"n": len(problems), "list": "；".join(problems[:10])}
        )
    return originals


def _load_records(source, entries, originals):
    counts, deferred = {}, []
    for model, entry in entries:
        try:
            with open(source / entry["file"], encoding="utf-8") as stream:
                objects = serializers.deserialize("json", stream, handle_forward_references=True)
                counts[entry["model"]] = _save_all(model, objects, originals, deferred)
        except (DeserializationError, DatabaseError) as error:
            raise ArchiveError(
                _("记录文件 %(file)s 无法导入：%(error)s") % {"file": entry["file"], "error": error}
            ) from error
        if counts[entry["model"]] != entry["count"]:
            raise ArchiveError(
                _("记录文件 %(file)s 有 %(found)d 条记录，manifest.json 说是 %(count)d 条。")
                % {"file": entry["file"], "found": counts[entry["model"]], "count": entry["count"]}
            )
    for obj in deferred:
        obj.save_deferred_fields()
    _check_constraints([model for model, _entry in entries])
    return counts


def _save_all(model, objects, originals, deferred):
    # Plain rows (paragraphs: most of an archive) are inserted in batches. The rest are saved
    # one by one as loaddata does: signals get raw=True, times stamped on insert keep their
    # archived value (bulk_create would stamp them anew), and rows a listener created
    # meanwhile (the stamp) are updated rather than inserted twice.
    in_bulk = not (
        model._meta.many_to_many
        or _label(model) in LOADED_LAST
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or any(
            getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            for f in model._meta.concrete_fields
        )
    )
    batch, count = [], 0
    for obj in objects:
        if type(obj.object) is not model:
            raise DeserializationError(_label(type(obj.object)))
        if model is SourceFile:
            _check_source_record(obj.object, originals)
        count += 1
        if obj.deferred_fields:
            deferred.append(obj)
        if in_bulk and not obj.deferred_fields:
            batch.append(obj.object)
            if len(batch) >= BATCH:
                model._base_manager.bulk_create(batch)
                batch = []
        else:
            obj.save()
    if batch:
        model._base_manager.bulk_create(batch)
    return count


def _check_source_record(source_file, originals):
    if originals.get(source_file.sha256) != source_file.size:
        raise ArchiveError(
            _("原始文件记录 #%(pk)s %(name)s 的文件不在导出中。")
            % {"pk": source_file.pk, "name": source_file.original_name}
        )


def _check_constraints(models):
    tables = [m._meta.db_table for m in models]
    tables += [
        f.remote_field.through._meta.db_table
        for m in models
        for f in m._meta.many_to_many
        if f.remote_field.through._meta.auto_created
    ]
    try:
        connection.check_constraints(table_names=tables)
    except DatabaseError as error:
        raise ArchiveError(_("导出的记录互相引用不一致：%(error)s") % {"error": error}) from error


def _reset_sequences(models):
    """Rows came with their ids; new rows must continue after them (PostgreSQL sequences)."""
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _restore_originals(source, originals, written):
    for sha256 in sorted(originals):
        target = original_path(sha256=sha256)
        if target.is_file() and _file_sha256(target) == sha256:
            continue
        # Originals are at most an upload's size: read whole, checked, stored as uploads are.
        data = (source / ORIGINALS / sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ArchiveError(_("原始文件 %(sha)s 在导入过程中被改动了。") % {"sha": sha256})
        target.unlink(missing_ok=True)  # a damaged copy in the way
        store_original(data=data, sha256=sha256)
        written.append(target)


# -- files --------------------------------------------------------------------------------


def _hash_file(path):
    digest, length = hashlib.sha256(), 0
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            length += len(chunk)
    return digest.hexdigest(), length


def _file_sha256(path):
    return _hash_file(path)[0]


def _copy_hashing(source, target):
    """Copy bytes and return the SHA-256 and length of what was written."""
    digest, length = hashlib.sha256(), 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            length += len(chunk)
            writer.write(chunk)
        _flush(writer)
    return digest.hexdigest(), length


def _write_durably(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(text)
        _flush(out)


def _flush(stream):
    # A backup that a power cut can leave half-written on disk is no backup.
    stream.flush()
    os.fsync(stream.fileno())


def _sync_directory(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
