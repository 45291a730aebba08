"""Name filters (speaker:, org:, event:) resolved through the database.

Each name of a person, organization or event is kept folded with its characters and pairs
of characters (NameGram, indexed by kind and gram), so that a filter's candidates come from
one indexed query however many names there are; the few candidates are then confirmed to
hold every word of the filter as it stands. Signals keep the rows in step with the names;
`index_all()` writes them afresh (migration, rebuild_search_index).
"""

from django.db import transaction
from django.db.models import Count

from speeches.models import Event, Organization, Person

from .engine.analysis import fold
from .models import NameGram

# kind (the index field a filter narrows): the model and the fields that name it.
NAMED = {
    "speaker": (Person, ("name",)),
    "organization": (Organization, ("name", "short_name")),
    "event": (Event, ("name", "series")),
}
KIND_OF = {model: kind for kind, (model, _) in NAMED.items()}


def ids_named(*, kind, wanted):
    """Ids of the rows of `kind` one of whose names contains every word of `wanted`, folded."""
    words = fold(wanted).split()
    grams = {g for w in words for g in _query_grams(w)}
    if not grams:
        return []
    candidates = (
        NameGram.objects.filter(kind=kind, gram__in=grams)
        .values_list("object_id", "folded")
        .annotate(found=Count("gram", distinct=True))
        .filter(found=len(grams))
    )
    return sorted({pk for pk, folded, _ in candidates if all(w in folded for w in words)})


def _query_grams(word):
    return [word] if len(word) == 1 else [word[i : i + 2] for i in range(len(word) - 1)]


def name_grams(values):
    """(folded name, gram) of each character and pair of characters of these names."""
    for folded in {fold(v) for v in values if v}:
        for gram in set(folded) | {folded[i : i + 2] for i in range(len(folded) - 1)}:
            yield folded, gram


def _rows(kind, pk, values, model=NameGram):
    for folded, gram in name_grams(values):
        yield model(kind=kind, object_id=pk, folded=folded, gram=gram)


def index_names(instance):
    """Write the grams of this person's, organization's or event's names afresh."""
    kind = KIND_OF[type(instance)]
    fields = NAMED[kind][1]
    with transaction.atomic():
        forget_names(kind=kind, pk=instance.pk)
        values = [getattr(instance, f) for f in fields]
        NameGram.objects.bulk_create(_rows(kind, instance.pk, values), batch_size=500)


def forget_names(*, kind, pk):
    NameGram.objects.filter(kind=kind, object_id=pk).delete()


def index_all():
    """Every name's grams, written afresh in one transaction; how many names."""
    done = 0
    with transaction.atomic():
        NameGram.objects.all().delete()
        for kind, (model, fields) in NAMED.items():
            rows = []
            for pk, *values in model.objects.values_list("pk", *fields).iterator():
                rows.extend(_rows(kind, pk, values))
                done += 1
            NameGram.objects.bulk_create(rows, batch_size=500)
    return done
