"""haystack's adapter to our engine: haystack's stock Whoosh backend, with four changes.

- The schema follows our fields: analyzed text is not stored and gets no sort column (the
  body lives in the database), no field keeps positions, the folded text and its word
  lengths are columns of their own, and filter/facet values are exact IDs with columns.
- Every write holds one file lock, so writers queue instead of raising LockError, and
  several changes go out in one commit (`apply`); update() and remove() go that way too.
- search() and more_like_this() answer through search.service, so that SearchQuerySet,
  its filter(), facet(), narrow() and highlight(), and haystack's SearchView return what
  the archive's own pages show: the same matches, order, counts and snippets.
- Queries are written in the archive's syntax (search.engine.query.syntax), not Whoosh's.
"""

import os
import threading

from django.conf import settings
from haystack.backends import SearchNode
from haystack.backends.whoosh_backend import WhooshEngine, WhooshSearchBackend, WhooshSearchQuery
from haystack.constants import DJANGO_CT, DJANGO_ID, ID
from haystack.exceptions import SearchBackendError
from haystack.models import SearchResult
from whoosh import index as whoosh_index
from whoosh.fields import ID as WHOOSH_ID
from whoosh.fields import TEXT

from . import service
from .engine import runs
from .engine.codec import PositionalFileStorage
from .engine.store import WRITER_OPTIONS, TextColumn, exclusive_file_lock

__all__ = ["WRITER_OPTIONS", "ChineseWhooshEngine", "exclusive_file_lock"]


class ChineseWhooshSearchBackend(WhooshSearchBackend):
    # Read by search.service and search.queue: the engine package may read this index's files
    # directly (another haystack engine is asked through SearchQuerySet instead).
    own_engine = True

    def __init__(self, connection_alias, **options):
        super().__init__(connection_alias, **options)
        self._searcher = None
        self._searcher_lock = threading.Lock()

    def setup(self):
        super().setup()
        if self.use_file_storage:
            self.storage = PositionalFileStorage(self.path)
            self.index = self.storage.open_index(schema=self.schema)

    @property
    def writer_lock_path(self):
        # Beside the index directory, so that clearing the index never removes the lock.
        return f"{os.path.normpath(self.path)}.writer.lock"

    def writer_lock(self):
        return exclusive_file_lock(self.writer_lock_path)

    def build_schema(self, fields):
        content_field_name, schema = super().build_schema(fields)
        for field in fields.values():
            name = field.index_fieldname
            if field.field_type == "keyword":
                _replace(schema, name, WHOOSH_ID(stored=True, sortable=True))
            elif field.field_type == "column":
                _replace(schema, name, TextColumn())
            elif field.field_type == "analyzed":
                text = TEXT(
                    analyzer=field.analyzer,
                    stored=field.stored,
                    phrase=False,
                    field_boost=field.boost,
                )
                _replace(schema, name, text)
        return content_field_name, schema

    def update(self, index, iterable, commit=True):
        with self.writer_lock():
            self.apply(index, update=[index.full_prepare(obj) for obj in iterable])

    def remove(self, obj_or_string, commit=True):
        identifier = obj_or_string
        if not isinstance(obj_or_string, str):
            identifier = f"{obj_or_string._meta.label_lower}.{obj_or_string.pk}"
        with self.writer_lock():
            self.apply(None, delete=[identifier])

    def search(
        self,
        query_string,
        sort_by=None,
        start_offset=0,
        end_offset=None,
        highlight=False,
        facets=None,
        narrow_queries=None,
        result_class=None,
        **kwargs,
    ):
        end = min(end_offset or settings.ARCHIVE_MAX_RESULTS, settings.ARCHIVE_MAX_RESULTS)
        outcome = service.search(
            query="" if query_string == MATCH_ALL else query_string,
            filters=_filters(narrow_queries),
            page_size=max(end, 1),
            sort=_sort(sort_by),
            facets=bool(facets),
            everything=query_string == MATCH_ALL,
        )
        return self._results(outcome, start_offset, end, highlight, facets, result_class)

    def more_like_this(
        self, model_instance, additional_query_string=None, start_offset=0, end_offset=None,
        result_class=None, **kwargs,
    ):  # fmt: skip
        end = min(end_offset or settings.ARCHIVE_PAGE_SIZE, settings.ARCHIVE_MAX_RESULTS)
        outcome = service.more_like(speech_id=model_instance.pk, page_size=end)
        return self._results(outcome, start_offset, end, False, None, result_class)

    def _results(self, outcome, start, end, highlight, facets, result_class):
        result_class = result_class or SearchResult
        results = []
        for hit in outcome.hits[start:end]:
            result = result_class("speeches", "speech", str(hit.speech.pk), hit.score)
            if highlight:
                result.highlighted = {self.content_field_name: [s.html for s in hit.snippets]}
            results.append(result)
        answer = {"results": results, "hits": outcome.count, "spelling_suggestion": None}
        if facets:
            fields = {
                name: [(o["value"], o["count"]) for o in options]
                for name, options in outcome.facets.items()
                if name in facets
            }
            answer["facets"] = {"fields": fields, "dates": {}, "queries": {}}
        return answer

    def clear(self, models=None, commit=True):
        with self.writer_lock():
            super().clear(models=models, commit=commit)
        self.reset_searcher()

    def apply(self, index, *, update=(), delete=()):
        """Write several documents and deletions in one commit. Callers hold writer_lock()."""
        if not self.setup_complete:
            self.setup()
        self.index = self.index.refresh()
        writer = self.index.writer(**WRITER_OPTIONS)
        try:
            for identifier in delete:
                writer.delete_by_term(ID, identifier)
            for doc in update:
                writer.update_document(**self.whoosh_document(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        runs.write_missing(self.index.refresh())

    def whoosh_document(self, prepared):
        doc = {key: self._from_python(value) for key, value in prepared.items()}
        doc.pop("boost", None)
        return doc

    def searcher(self):
        """A searcher shared by this process's requests, reopened when the index changed.

        None while no index exists: readers never create one, only writers do.
        """
        if not self.setup_complete:
            if self.use_file_storage and not whoosh_index.exists_in(self.path):
                return None
            self.setup()
        with self._searcher_lock:
            if self._searcher is None:
                self.index = self.index.refresh()
                self._searcher = self.index.searcher()
            else:
                self._searcher = self._searcher.refresh()
            return self._searcher

    def reset_searcher(self):
        with self._searcher_lock:
            self._searcher = None


def _replace(schema, name, fieldtype):
    schema.remove(name)
    schema.add(name, fieldtype)


MATCH_ALL = "*"
KEYWORDS = ("year", "kind", "speaker", "organization", "event")


def _filters(narrow_queries):
    """search.service.Filters from narrow queries of the form `field:value` (what
    ArchiveSearchQuery makes of filter(year=2024) and what narrow("kind:报告") says)."""
    values = {}
    for narrow in narrow_queries or ():
        field, _, value = narrow.partition(":")
        if field in (DJANGO_CT, DJANGO_ID, ID):
            continue
        if field not in KEYWORDS or not value:
            raise SearchBackendError(f"narrow by one of {KEYWORDS} as field:value, not {narrow!r}")
        values[field] = value.strip('"')
    return service.Filters(**values)


def _sort(sort_by):
    if not sort_by:
        return "relevance"
    if list(sort_by) == ["-date"]:
        return "date"
    raise SearchBackendError(f"sort by relevance or -date, not {sort_by!r}")


class ArchiveSearchQuery(WhooshSearchQuery):
    """SearchQuerySet's filters, written in the archive's own query syntax: text filters as
    words ("exact" as a quoted phrase), exclude() as -word, OR between alternatives;
    filters on keyword fields (year, kind, speaker, organization, event ids) go to the
    backend as narrow queries."""

    def build_query(self):
        return self._syntax(self.query_filter) or MATCH_ALL

    def build_params(self, *args, **kwargs):
        params = super().build_params(*args, **kwargs)
        keywords = {f"{field}:{value}" for field, value in self._keywords(self.query_filter)}
        if keywords:
            params["narrow_queries"] = set(params.get("narrow_queries") or ()) | keywords
        return params

    def _syntax(self, node):
        parts = []
        for child in node.children:
            if isinstance(child, SearchNode):
                part = self._syntax(child)
            else:
                field, filter_type = node.split_expression(child[0])
                if field in KEYWORDS:
                    continue
                value = child[1].prepare(self) if hasattr(child[1], "prepare") else child[1]
                part = f'"{value}"' if filter_type == "exact" else str(value)
            if part:
                parts.append(f"-{part}" if node.negated else part)
        return (" OR " if node.connector == "OR" else " ").join(parts)

    def _keywords(self, node):
        for child in node.children:
            if isinstance(child, SearchNode):
                yield from self._keywords(child)
                continue
            field, _filter_type = node.split_expression(child[0])
            if field in KEYWORDS:
                yield field, child[1]


class ChineseWhooshEngine(WhooshEngine):
    backend = ChineseWhooshSearchBackend
    query = ArchiveSearchQuery
