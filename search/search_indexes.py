"""What the search index holds for each published address: one Whoosh document per speech."""

from haystack import indexes

from speeches.models import Speech

from .analysis import BigramAnalyzer, CharAnalyzer, JiebaAnalyzer


class AnalyzedField(indexes.CharField):
    """Text searched but never stored: the body lives in the database, not twice on disk."""

    def __init__(self, *, phrase=True, **kwargs):
        self.phrase = phrase
        kwargs.setdefault("stored", False)
        super().__init__(**kwargs)


class KeywordField(indexes.CharField):
    """An exact value for filters and facets (ids, years, kinds)."""

    field_type = "keyword"


class SpeechIndex(indexes.SearchIndex, indexes.Indexable):
    # Ranking: jieba tokens (BM25), term frequencies only. Recall: bigram phrases and
    # single characters; only the bigrams need positions.
    text = AnalyzedField(document=True, analyzer=JiebaAnalyzer(), phrase=False)
    title = AnalyzedField(analyzer=JiebaAnalyzer(), phrase=False, boost=2.0)
    grams = AnalyzedField(analyzer=BigramAnalyzer())
    chars = AnalyzedField(analyzer=CharAnalyzer(), phrase=False)

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


def searchable_text(speech):
    """Everything a reader may quote: headings, body and the speech's own names."""
    cache = getattr(speech, "_searchable_text", None)
    if cache is None:
        names = [speech.title, speech.subtitle, speech.position]
        names += [str(x) for x in (speech.speaker, speech.organization, speech.event) if x]
        body = [p.text for p in speech.paragraphs.all()]
        # A pilcrow, not a blank line: folding joins CJK across whitespace, never across ¶.
        cache = speech._searchable_text = "\n¶\n".join([*names, *body])
    return cache
