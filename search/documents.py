"""What an address contributes to the search index: one document per published speech."""

from collections import defaultdict

from haystack import indexes
from whoosh.analysis import IDAnalyzer

from speeches.models import Paragraph, Speech

from .engine.analysis import (
    SEPARATOR,
    BigramAnalyzer,
    CharAnalyzer,
    JiebaAnalyzer,
    fold,
    word_lengths,
)
from .engine.counting import body_length, head_of


class AnalyzedField(indexes.CharField):
    """Text searched but never stored: the body lives in the database, not twice on disk."""

    field_type = "analyzed"

    def __init__(self, **kwargs):
        kwargs.setdefault("stored", False)
        super().__init__(**kwargs)


class ColumnField(indexes.CharField):
    """Text kept beside the index, a value per document, neither analyzed nor returned with
    results: search code reads it by document number."""

    field_type = "column"

    def __init__(self, **kwargs):
        kwargs.setdefault("stored", False)
        super().__init__(**kwargs)


class KeywordField(indexes.CharField):
    """An exact value for filters and facets (ids, years, kinds)."""

    field_type = "keyword"

    def __init__(self, **kwargs):
        # Our backend makes this an ID field; another haystack engine that reads fields'
        # analyzers (stock Whoosh) keeps the value whole too, not split or dropped.
        kwargs.setdefault("analyzer", IDAnalyzer())
        super().__init__(**kwargs)


class SpeechIndex(indexes.SearchIndex, indexes.Indexable):
    # Ranking: jieba tokens (BM25). Recall: single characters, bigrams, and for longer runs
    # the places of their bigrams (the engine's runs files beside each segment, written from
    # the folded column) or, without those, all their bigrams confirmed in the folded text.
    text = AnalyzedField(document=True, analyzer=JiebaAnalyzer())
    title = AnalyzedField(analyzer=JiebaAnalyzer(), boost=2.0)
    grams = AnalyzedField(analyzer=BigramAnalyzer())
    chars = AnalyzedField(analyzer=CharAnalyzer())
    # The folded text, which the runs files are made from and snippets are cut from,
    # and the lengths of its jieba words, which snippets mark whole (search.engine.snippets).
    folded = ColumnField()
    words = ColumnField()
    # Characters of the folded body: what term trends divide by; and the folded text before
    # the body (title, names), which trends take away from what the postings count
    # (search.engine.counting).
    body_chars = ColumnField()
    head = ColumnField()
    # "1": this document's `chars` postings count each character's occurrences (an index
    # written before they did keeps each once; trends count those documents in their text).
    chars_counted = ColumnField()

    year = KeywordField(null=True)
    kind = KeywordField(model_attr="kind")
    speaker = KeywordField(null=True)
    organization = KeywordField(null=True)
    event = KeywordField(null=True)
    date = indexes.DateField(model_attr="date", null=True)
    # Lets the drift check see an index entry older than the row it came from.
    updated = KeywordField()

    def get_model(self):
        return Speech

    def index_queryset(self, using=None):
        return Speech.objects.published().prefetch_related("paragraphs")

    def prepare(self, obj):
        data = super().prepare(obj)
        data["year"] = str(obj.date.year) if obj.date else None
        for name in ("speaker", "organization", "event"):
            fk = getattr(obj, f"{name}_id")
            data[name] = str(fk) if fk else None
        data["updated"] = obj.updated_at.isoformat()
        return data

    def prepare_text(self, obj):
        return searchable_text(obj)

    def prepare_title(self, obj):
        return f"{obj.title}\n{obj.subtitle}"

    def prepare_grams(self, obj):
        return searchable_text(obj)

    def prepare_chars(self, obj):
        return searchable_text(obj)

    def prepare_folded(self, obj):
        return fold(searchable_text(obj))

    def prepare_words(self, obj):
        return word_lengths(fold(searchable_text(obj)))

    def prepare_body_chars(self, obj):
        return str(body_length(fold(searchable_text(obj)), names=len(searchable_names(obj))))

    def prepare_chars_counted(self, obj):
        return "1"

    def prepare_head(self, obj):
        return head_of(fold(searchable_text(obj)), names=len(searchable_names(obj)))


def searchable_text(speech, body=None):
    """Everything a reader may quote: headings, body and the speech's own names.
    `body`: the texts of its paragraphs, if they were read already."""
    cache = getattr(speech, "_searchable_text", None)
    if cache is None:
        if body is None:
            body = [p.text for p in speech.paragraphs.all()]
        cache = speech._searchable_text = SEPARATOR.join([*searchable_names(speech), *body])
    return cache


def searchable_names(speech):
    """The parts of the searchable text before the body."""
    names = [speech.title, speech.subtitle, speech.position]
    return names + [str(x) for x in (speech.speaker, speech.organization, speech.event) if x]


def with_searchable_texts(speeches):
    """The speeches, each with its searchable text, their paragraphs read in one query as
    plain strings: a rebuild reads every paragraph of the archive."""
    speeches = list(speeches)
    bodies = defaultdict(list)
    rows = Paragraph.objects.filter(speech__in=speeches).order_by("speech_id", "position")
    for speech_id, text in rows.values_list("speech_id", "text"):
        bodies[speech_id].append(text)
    for speech in speeches:
        searchable_text(speech, bodies[speech.pk])
    return speeches
