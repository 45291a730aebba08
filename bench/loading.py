"""Importing the corpus through the real import service, and reading back what was stored."""

import time

from .stats import NotAvailable


def _metadata(doc):
    if doc.is_address:
        return {"title": doc.title, "speaker": doc.speaker, "date": doc.date, "event": doc.occasion}
    return {"title": doc.title, "date": doc.date, "organization": doc.category, "kind": "其他"}


def import_corpus(docs, *, near_duplicate_check=True, progress=None):
    """Import every document, published. Returns (pks, failures, seconds, how)."""
    try:
        from speeches import services
        from speeches.importing.errors import TranscriptImportError
        from speeches.models import SpeechStatus

        import_transcript = services.import_transcript
    except (ImportError, AttributeError) as error:
        raise NotAvailable(f"speeches.services.import_transcript: {error}") from error
    how = "speeches.services.import_transcript"
    original = services.find_near_duplicates
    if not near_duplicate_check:
        # Every import compares against every stored speech (quadratic in N); measured
        # separately on a sample so that a large run still finishes.
        services.find_near_duplicates = lambda **kwargs: []
        how += " (near-duplicate check off)"
    pks, failures = [], []
    start = time.perf_counter()
    try:
        for i, doc in enumerate(docs, start=1):
            data = ("\n\n".join(doc.paragraphs) + "\n").encode("utf-8")
            try:
                result = import_transcript(
                    data=data,
                    filename=f"{i:05d}.txt",
                    metadata=_metadata(doc),
                    status=SpeechStatus.PUBLISHED,
                )
            except TranscriptImportError as error:
                failures.append((doc.key, str(error)))
                pks.append(None)
                continue
            speech = result.speech or result.duplicate_of
            pks.append(speech.pk if speech else None)
            if progress and i % 500 == 0:
                progress(i, time.perf_counter() - start)
    finally:
        services.find_near_duplicates = original
    return pks, failures, time.perf_counter() - start, how


def near_duplicate_check_seconds(text):
    """(cold, warm) seconds for one upload's near-duplicate check against everything stored.

    Cold is a fresh process (every fingerprint computed), warm is the next upload.
    """
    from speeches.importing import selectors

    selectors._fingerprints.clear()
    times = []
    for _ in range(2):
        start = time.perf_counter()
        selectors.find_near_duplicates(text=text)
        times.append(time.perf_counter() - start)
    return tuple(times)


def stored_texts(pks):
    """{pk: the text a reader can find}, as the search index sees it when it says so."""
    from speeches.models import Speech

    try:
        from search.documents import searchable_text
    except ImportError:

        def searchable_text(speech):
            return "\n".join([speech.title, *(p.text for p in speech.paragraphs.all())])

    out = {}
    wanted = [pk for pk in pks if pk]
    for i in range(0, len(wanted), 500):
        qs = (
            Speech.objects.filter(pk__in=wanted[i : i + 500])
            .select_related("speaker", "organization", "event")
            .prefetch_related("paragraphs")
        )
        for speech in qs:
            out[speech.pk] = searchable_text(speech)
    return out


def paragraphs_of(pk):
    from speeches.models import Paragraph

    return list(Paragraph.objects.filter(speech_id=pk).values_list("text", flat=True))
