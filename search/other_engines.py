"""Search through another haystack engine (Elasticsearch 7, Solr, …), named in settings.

The archive's own engine (search.backend) answers search.service directly. Any other engine
in HAYSTACK_CONNECTIONS answers through haystack's SearchQuerySet: each term as that engine
reads it (a quoted one as a phrase, -term left out, OR between alternatives), the clicked
facets, the year ranges and the name filters (already ids, search.names) as narrow queries,
the engine's own ranking and facet counts. The service cuts snippets from the database text.
What this gives up: README, "Another search engine".
"""

import operator
from dataclasses import dataclass, field
from functools import reduce

from haystack.inputs import Clean, Exact
from haystack.query import SQ, SearchQuerySet

from speeches.models import Speech

ORDER = {"date": "-date", "oldest": "date"}


@dataclass
class Found:
    ids: list
    scores: list
    count: int
    facets: dict = field(default_factory=dict)  # {field: [(value, count)]}


def find(*, parsed, keywords, sort, page, page_size, facets=()):
    """One page of what the configured engine finds for a parsed query (search.engine.query)
    narrowed by `keywords` ([(index field, [values, any of which])])."""
    sqs = SearchQuerySet().models(Speech)
    for group in parsed.groups:
        sqs = sqs.filter(reduce(operator.or_, map(_content, group)))
    for term in parsed.excluded:
        sqs = sqs.exclude(_content(term))
    for name, values in keywords:
        sqs = sqs.narrow(" OR ".join(f'{name}:"{sqs.query.clean(v)}"' for v in values))
    if parsed.year_ranges:
        sqs = sqs.narrow(" OR ".join(f"year:[{a:04d} TO {b:04d}]" for a, b in parsed.year_ranges))
    if sort in ORDER:
        sqs = sqs.order_by(ORDER[sort])
    for name in facets:
        sqs = sqs.facet(name)
    start = (page - 1) * page_size
    results = list(sqs[start : start + page_size])
    found = Found([int(r.pk) for r in results], [r.score or 0.0 for r in results], sqs.count())
    if facets:
        found.facets = sqs.facet_counts().get("fields", {})
    return found


def _content(term):
    """A term as every haystack engine reads it: a quoted one as a phrase, the rest as text
    the engine analyzes (A 同段 B: both, anywhere)."""
    return SQ(content=Exact(term.text)) if term.quoted else SQ(content=Clean(term.text))


def more_like(*, speech, page_size):
    results = list(SearchQuerySet().more_like_this(speech)[:page_size])
    return Found([int(r.pk) for r in results], [r.score or 0.0 for r in results], len(results))


def indexed_stamps():
    """{speech id: its `updated` stamp as the engine holds it}, for search.drift."""
    return {int(r.pk): getattr(r, "updated", "") for r in SearchQuerySet().models(Speech)}
