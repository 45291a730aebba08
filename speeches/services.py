"""Writes to the archive. Every change to a speech's records goes through here."""

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from . import pages
from .importing.decoding import clean_filename, decode_upload
from .importing.errors import NearDuplicateError, TranscriptImportError
from .importing.parsing import (
    ParsedTranscript,
    describe_event,
    find_headings,
    kind_from_title,
    parse_transcript,
)
from .importing.selectors import (
    find_event,
    find_near_duplicates,
    find_organization,
    find_person,
    find_same_text,
    find_source_file,
    original_path,
)
from .importing.similarity import SAME_ADDRESS
from .models import (
    ArchiveStamp,
    Event,
    Organization,
    Paragraph,
    Person,
    RenderedPage,
    SourceFile,
    Speech,
    SpeechKind,
    SpeechStatus,
    date_from_parts,
)


def store_speech_pages(*, speech_ids, language=None):
    """Render and keep the reader's page of each published address in `speech_ids` whose
    stored page is missing or out of date."""
    language = language or settings.LANGUAGE_CODE
    release = pages.release()
    current = set(
        RenderedPage.objects.filter(
            speech_id__in=list(speech_ids), language=language, release=release
        ).values_list("speech_id", "speech_updated_at", "page_version")
    )
    speeches = Speech.objects.published().with_related().filter(pk__in=list(speech_ids))
    for speech in speeches:
        if (speech.pk, speech.updated_at, speech.page_version) in current:
            continue
        page, card = pages.render_for_readers(speech, language=language)
        try:
            RenderedPage.objects.update_or_create(
                speech=speech,
                language=language,
                defaults={
                    "release": release,
                    "speech_updated_at": speech.updated_at,
                    "page_version": speech.page_version,
                    "compressed_html": pages.compress(page),
                    "card_html": card,
                },
            )
        except IntegrityError:
            # Another process stored it first, or deleted the address meanwhile: a stored
            # page is only a copy, and whoever changed the address stores its own.
            continue


_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def split_paragraphs(text):
    """Split a text area's content on blank lines; keep each paragraph's characters as typed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]


@transaction.atomic
def replace_paragraphs(*, speech, texts, headings=()):
    """Make `texts` the speech's whole body, numbered from 1."""
    speech.paragraphs.all().delete()
    Paragraph.objects.bulk_create(
        Paragraph(speech=speech, position=i, text=t, is_heading=(i - 1) in headings)
        for i, t in enumerate(texts, start=1)
    )
    # bulk_create sends no signals; saving the speech tells listeners (search) the body changed.
    touch(speech=speech)


def set_topics(*, topics):
    """Store each address's keywords and related addresses, `topics` {speech id: (keywords,
    related ids)}: only those that changed, without touching the address itself (no re-index);
    their pages show the new ones from the next request."""
    current = Speech.objects.filter(pk__in=list(topics)).values_list(
        "pk", "keywords", "related_ids"
    )
    changed = [pk for pk, keywords, related in current if topics[pk] != (keywords, related)]
    for pk in changed:
        keywords, related = topics[pk]
        Speech.objects.filter(pk=pk).update(keywords=keywords, related_ids=related)
    if changed:
        ids = pages.expire(Speech.objects.filter(pk__in=changed))
        ArchiveStamp.bump()
        transaction.on_commit(lambda: store_speech_pages(speech_ids=ids), robust=True)
    return changed


def touch(*, speech):
    """Mark the speech changed: listeners re-read it and cached renderings expire."""
    speech.save(update_fields=["updated_at"])


def set_status(*, speech, status):
    speech.status = status
    speech.save(update_fields=["status", "updated_at"])


def publish(*, speech):
    set_status(speech=speech, status=SpeechStatus.PUBLISHED)


def unpublish(*, speech):
    set_status(speech=speech, status=SpeechStatus.DRAFT)


# Transcript import (issue 3) -------------------------------------------------


@dataclass
class ImportResult:
    """What one import did or, on a dry run, would do."""

    parsed: ParsedTranscript
    fields: dict
    encoding: str
    sha256: str
    near_duplicates: list
    speech: Speech | None = None
    source_file: SourceFile | None = None
    duplicate_of: Speech | None = None
    # "bytes" when the very file was imported before, "text" when its body is an address's.
    duplicate_by: str = ""

    @property
    def created(self):
        return self.speech is not None and self.duplicate_of is None


def import_transcript(
    *,
    data,
    filename,
    uploaded_by=None,
    metadata=None,
    status=SpeechStatus.DRAFT,
    dry_run=False,
    allow_same_address=True,
):
    """Turn one uploaded file into a speech, all or nothing.

    `metadata` overrides what the parser detected (keys as in ImportResult.fields,
    plus "paragraphs" and "headings" for a body corrected by staff). Identical
    bytes are never imported twice: the result names the existing speech. Without
    `allow_same_address`, a text at least SAME_ADDRESS similar to a kept address is
    refused with NearDuplicateError, naming it.
    """
    filename = clean_filename(filename)
    digest = hashlib.sha256(data).hexdigest()
    known = find_source_file(sha256=digest)
    if known and known.speech_id:
        return ImportResult(
            parsed=None,
            fields={},
            encoding=known.encoding,
            sha256=digest,
            near_duplicates=[],
            source_file=known,
            duplicate_of=known.speech,
            duplicate_by="bytes",
        )
    decoded = decode_upload(data=data, filename=filename)
    parsed = parse_transcript(decoded.text)
    fields = merge_fields(parsed=parsed, metadata=metadata or {}, filename=filename)
    body = "\n".join(fields["paragraphs"])
    result = ImportResult(
        parsed=parsed,
        fields=fields,
        encoding=decoded.encoding,
        sha256=digest,
        near_duplicates=find_near_duplicates(text=body),
    )
    if dry_run:
        return result
    if not allow_same_address:
        _refuse_same_address(result.near_duplicates)
    stored_path = store_original(data=data, sha256=digest)
    try:
        with transaction.atomic():
            result.speech = _create_speech(fields=fields, status=status)
            result.source_file = _record_source(
                known=known,
                speech=result.speech,
                sha256=digest,
                original_name=filename,
                size=len(data),
                encoding=decoded.encoding,
                stored_path=stored_path,
                uploaded_by=uploaded_by,
            )
    except IntegrityError:
        # The same bytes were saved by a concurrent upload a moment ago.
        known = find_source_file(sha256=digest)
        if not (known and known.speech_id):
            raise
        result.speech, result.source_file, result.duplicate_of = None, known, known.speech
        result.duplicate_by = "bytes"
    return result


def _refuse_same_address(near_duplicates):
    same = [(speech, score) for speech, score in near_duplicates if score >= SAME_ADDRESS]
    if same:
        raise NearDuplicateError(
            gettext("正文与已有讲稿%(which)s几乎相同，没有保存。")
            % {
                "which": "、".join(
                    f"《{speech.title}》（#{speech.pk}，{round(score * 100)}%）"
                    for speech, score in same
                )
            }
        )


def merge_fields(*, parsed, metadata, filename):
    """The record's fields: staff's or the TSV's values where given, else the parser's."""
    detected = {
        name: getattr(parsed, name)
        for name in ("title", "subtitle", "column", "speaker", "position", "organization")
    }
    detected.update(
        kind=parsed.kind,
        event=parsed.event_name,
        event_series=parsed.event_series,
        event_year=parsed.event_year,
        event_city=parsed.event_city,
        date=parsed.date,
        date_precision=parsed.date_precision,
        paragraphs=parsed.paragraphs,
        headings=parsed.headings,
    )
    # None means "not given"; an empty string is staff clearing a wrong detection.
    given = {key: value for key, value in metadata.items() if value is not None}
    if isinstance(given.get("date"), str):
        given["date"], given["date_precision"] = parse_date(given["date"])
    if "kind" in given:
        given["kind"] = parse_kind(given["kind"])
    if "paragraphs" in given and "headings" not in given:
        given["headings"] = find_headings(given["paragraphs"])
    if "event" in given and given["event"] != parsed.event_name:
        series, year, city = describe_event(given["event"])
        detected.update(event_series=series, event_year=year, event_city=city)
    if "title" in given and "kind" not in given:
        given["kind"] = kind_from_title(given["title"]) or detected["kind"]
    fields = {**detected, **given}
    if fields["event"] and not fields["event_year"] and fields["date"]:
        fields["event_year"] = fields["date"].year
    fields["title"] = fields["title"] or PurePath(filename).stem
    fields["kind"] = fields["kind"] or SpeechKind.SPEECH
    fields["paragraphs"] = [p.strip() for p in fields["paragraphs"] if p.strip()]
    if not fields["paragraphs"]:
        raise TranscriptImportError(gettext("正文为空：没有可保存的段落。"))
    return fields


def parse_date(value):
    """(date, precision) from "1954-09-23", "1954-09" or "1954"; a clear error otherwise."""
    if not value.strip():
        return None, ""
    try:
        return date_from_parts(*(int(part) for part in value.strip().split("-")))
    except (TypeError, ValueError) as error:
        raise TranscriptImportError(
            gettext("日期“%(value)s”无法识别，请写成 2024-11-20、2024-11 或 2024。")
            % {"value": value}
        ) from error


# Kinds as catalogues name them in English (the corpus's doc_type column). A party congress
# report is a report to the congress, not a government's work report.
KIND_NAMES = {
    "government_work_report": SpeechKind.WORK_REPORT,
    "work_report": SpeechKind.WORK_REPORT,
    "party_congress_report": SpeechKind.REPORT,
    "cpc_congress_report": SpeechKind.REPORT,
    "report": SpeechKind.REPORT,
    "address": SpeechKind.ADDRESS,
    "keynote": SpeechKind.KEYNOTE,
    "speech": SpeechKind.SPEECH,
    "foreword": SpeechKind.FOREWORD,
    "other": SpeechKind.OTHER,
}


def parse_kind(value):
    """The kind a label names: 工作报告 or government_work_report alike; a clear error otherwise."""
    value = value.strip()
    if not value or value in SpeechKind.values:
        return value
    kind = KIND_NAMES.get(value.lower().replace("-", "_"))
    if kind is None:
        raise TranscriptImportError(
            gettext("类型“%(value)s”无法识别，请写成 %(kinds)s 之一，或 %(names)s。")
            % {
                "value": value,
                "kinds": "、".join(SpeechKind.values),
                "names": ", ".join(KIND_NAMES),
            }
        )
    return kind.value


def preview_import(*, data, filename, uploaded_by=None):
    """A dry run that also keeps the bytes, so staff can save after correcting the preview.

    A body that is exactly a kept address's is that address again, as identical bytes are;
    an address without an original yet (the seed fixture's) gets this upload as its original.
    """
    result = import_transcript(data=data, filename=filename, dry_run=True)
    if result.duplicate_of:
        return result
    same = find_same_text(paragraphs=result.fields["paragraphs"])
    if same is None:
        store_original(data=data, sha256=result.sha256)
        return result
    result.duplicate_of, result.duplicate_by = same, "text"
    if not same.source_files.exists():
        result.source_file = _keep_original(
            speech=same,
            data=data,
            filename=clean_filename(filename),
            encoding=result.encoding,
            uploaded_by=uploaded_by,
        )
    return result


def replace_text(*, speech, data, filename, paragraphs, uploaded_by=None):
    """Make an upload's `paragraphs` the body of an address already kept.

    The address keeps its id, URL and fields; the upload's bytes become one more of its
    originals, its earlier ones stay.
    """
    filename = clean_filename(filename)
    known = find_source_file(sha256=hashlib.sha256(data).hexdigest())
    if known and known.speech_id and known.speech_id != speech.pk:
        raise TranscriptImportError(
            gettext("这个文件是讲稿《%(title)s》的原始文件，不能用来替换别的讲稿。")
            % {"title": known.speech.title}
        )
    encoding = decode_upload(data=data, filename=filename).encoding
    texts = [p.strip() for p in paragraphs if p.strip()]
    if not texts:
        raise TranscriptImportError(gettext("正文为空：没有可保存的段落。"))
    with transaction.atomic():
        replace_paragraphs(speech=speech, texts=texts, headings=find_headings(texts))
        if not (known and known.speech_id):
            _keep_original(
                speech=speech,
                data=data,
                filename=filename,
                encoding=encoding,
                uploaded_by=uploaded_by,
            )
    return speech


def _keep_original(*, speech, data, filename, encoding, uploaded_by):
    digest = hashlib.sha256(data).hexdigest()
    return _record_source(
        known=find_source_file(sha256=digest),
        speech=speech,
        sha256=digest,
        original_name=filename,
        size=len(data),
        encoding=encoding,
        stored_path=store_original(data=data, sha256=digest),
        uploaded_by=uploaded_by,
    )


def store_original(*, data, sha256):
    """Keep the uploaded bytes under MEDIA_ROOT; returns the path relative to it.

    The path comes from the digest alone, never from the uploaded file's name.
    """
    target = original_path(sha256=sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name of its own: two uploads of the same bytes at once must not write
        # into one partial file, nor move it away from under each other.
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            with open(partial, "xb") as file:
                file.write(data)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return target.relative_to(settings.MEDIA_ROOT).as_posix()


def _create_speech(*, fields, status):
    speech = Speech.objects.create(
        title=fields["title"],
        subtitle=fields["subtitle"],
        kind=fields["kind"],
        speaker=_person(fields["speaker"]),
        position=fields["position"],
        organization=_organization(fields["organization"]),
        event=_event(fields),
        column=fields["column"],
        date=fields["date"],
        date_precision=fields["date_precision"] if fields["date"] else "",
        status=status,
    )
    replace_paragraphs(speech=speech, texts=fields["paragraphs"], headings=fields["headings"])
    return speech


def _person(name):
    if not name:
        return None
    return find_person(name=name) or Person.objects.create(name=name)


def _organization(name):
    if not name:
        return None
    return find_organization(name=name) or Organization.objects.create(name=name)


def _event(fields):
    name = fields["event"]
    if not name:
        return None
    return find_event(name=name) or Event.objects.create(
        name=name,
        series=fields["event_series"] or "",
        year=fields["event_year"],
        city=fields["event_city"] or "",
    )


def _record_source(*, known, speech, **values):
    if known:
        # The same bytes once belonged to a speech since deleted: reattach them.
        for name, value in values.items():
            setattr(known, name, value)
        known.speech = speech
        known.save()
        return known
    return SourceFile.objects.create(speech=speech, **values)
