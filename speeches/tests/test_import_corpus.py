"""The 68 real addresses import with --metadata, losing no character; their second copies are flagged.

The corpus is imported once per session inside a transaction that is rolled
back, so other tests still start from an empty archive.
"""

import csv
import io
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from speeches import selectors, services
from speeches.importing.parsing import ZERO_WIDTH, parse_transcript
from speeches.models import SourceFile

pytestmark = pytest.mark.corpus
CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def cjk(text):
    return "".join(CJK.findall(text))


def read_index(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


@pytest.fixture(scope="session")
def imported(corpus_dir, django_db_setup, django_db_blocker, tmp_path_factory):
    speeches_dir = corpus_dir / "speeches"
    variants_dir = corpus_dir / "speeches_variants"
    uploads = tmp_path_factory.mktemp("corpus-uploads")
    out = io.StringIO()
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=uploads), transaction.atomic():
        call_command(
            "import_transcripts",
            str(speeches_dir),
            "--metadata",
            str(speeches_dir / "index.tsv"),
            "--publish",
            stdout=out,
        )
        records = {
            source.original_name: {
                "pk": source.speech.pk,
                "title": source.speech.title,
                "speaker": source.speech.speaker.name,
                "date": source.speech.date_iso,
                "event": source.speech.event.name,
                "kind": source.speech.kind,
                "series": source.speech.event.series,
                "neighbours": [
                    s.pk if s else None
                    for s in selectors.neighbours(
                        speech_id=source.speech.pk, event_id=source.speech.event_id
                    )
                ],
                "paragraphs": list(source.speech.paragraphs.values_list("text", flat=True)),
            }
            for source in SourceFile.objects.select_related("speech__speaker", "speech__event")
        }
        near = {
            name: [
                (speech.pk, score)
                for speech, score in services.import_transcript(
                    data=(variants_dir / name).read_bytes(), filename=name, dry_run=True
                ).near_duplicates
            ]
            for name in read_index(variants_dir / "index.tsv")
        }
        transaction.set_rollback(True)
    return out.getvalue(), records, near


def test_every_file_imports(imported, corpus_dir):
    out, records, _ = imported
    assert out.splitlines()[-1] == "共 68 个文件：新建 68，重复 0，失败 0"
    assert sorted(records) == sorted(read_index(corpus_dir / "speeches" / "index.tsv"))


def test_titles_speakers_dates_and_occasions_come_from_the_metadata(imported, corpus_dir):
    _, records, _ = imported
    for name, row in read_index(corpus_dir / "speeches" / "index.tsv").items():
        record = records[name]
        assert (record["title"], record["speaker"], record["date"], record["event"]) == (
            row["title"],
            row["speaker"],
            row["date"],
            row["occasion"],
        ), name


def test_kinds_follow_the_doc_type_column(imported, corpus_dir):
    _, records, _ = imported
    kinds = {"government_work_report": "工作报告", "cpc_congress_report": "报告"}
    for name, row in read_index(corpus_dir / "speeches" / "index.tsv").items():
        assert records[name]["kind"] == kinds[row["doc_type"]], name


def test_sessions_and_congresses_are_series_read_in_date_order(imported, corpus_dir):
    _, records, _ = imported
    rows = read_index(corpus_dir / "speeches" / "index.tsv")
    for doc_type, series in [
        ("government_work_report", "全国人民代表大会"),
        ("cpc_congress_report", "中国共产党全国代表大会"),
    ]:
        names = sorted((r["date"], n) for n, r in rows.items() if r["doc_type"] == doc_type)
        chain = [records[n]["pk"] for _, n in names]
        assert {records[n]["series"] for _, n in names} == {series}
        # Each address's previous and next are the ones before and after it in time.
        for i, (_, name) in enumerate(names):
            expected = [chain[i - 1] if i else None, chain[i + 1] if i + 1 < len(chain) else None]
            assert records[name]["neighbours"] == expected, name


def test_no_empty_paragraphs_and_no_character_lost(imported, corpus_dir):
    _, records, _ = imported
    for name, record in records.items():
        source = (corpus_dir / "speeches" / name).read_text(encoding="utf-8")
        assert record["paragraphs"], name
        assert all(p.strip() and p == p.strip() for p in record["paragraphs"]), name
        # The header lines (title, subtitle, byline, date) became fields; everything else
        # is in the stored paragraphs. Together they are every CJK character, in order.
        parsed = parse_transcript(source)
        assert len(parsed.header_lines) <= 8, name
        output = "".join([*parsed.header_lines, *record["paragraphs"], *parsed.footer_lines])
        assert cjk(output) == cjk(ZERO_WIDTH.sub("", source)), name


def test_stray_line_breaks_inside_words_are_repaired(imported):
    _, records, _ = imported
    for name in ("0059.txt", "0063.txt"):
        body = "".join(records[name]["paragraphs"])
        assert "政府工作报\n告" not in body and "\u200b" not in body


def test_every_variant_is_flagged_as_a_near_duplicate_of_its_address(imported, corpus_dir):
    _, records, near = imported
    variants = read_index(corpus_dir / "speeches_variants" / "index.tsv")
    for name, row in variants.items():
        main = records[row["same_address_as"]]["pk"]
        assert [pk for pk, _ in near[name]] == [main], name
        assert near[name][0][1] >= 0.9, name
