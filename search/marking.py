"""A query marked on an address page (?hl=…), for a reader who came from a search result.

speeches.pages calls mark_address() as its marker (set in search.apps): the address page
belongs to speeches, which never imports search, and only search knows how a query matches
text. The marks are found as search finds the words (folded: simplified and traditional,
full and half width, upper and lower case) and grown to whole words as in the snippets; where
the index is current, with its words, so that there are exactly as many marks as the result's
命中 N 处 said.
"""

from django.utils.safestring import mark_safe

from speeches.pages import Marking

from . import vocabulary
from .documents import searchable_names
from .engine.query import parse
from .engine.snippets import choose, indexed_layout, mark_all
from .service import own_searcher


def mark_address(*, speech, paragraphs, query):
    """A Marking of `paragraphs` ((position, text) pairs) for `query`; None if the query has
    nothing to mark (only filters, exclusions or punctuation)."""
    vocabulary.refresh()  # words grow to jieba's words, cut as search cuts them now
    parsed = parse(query)
    pieces = parsed.highlight_pieces
    if not pieces:
        return None
    indexed = _indexed_paragraphs(speech, pieces)
    marking = Marking(query=parsed.raw)
    for position, text in paragraphs:
        html, count = mark_all(text, pieces, index=indexed.get(position), first=marking.count + 1)
        if count:
            marking.html[position] = mark_safe(html)  # escaped by mark_all
            marking.count += count
    return marking


def _indexed_paragraphs(speech, pieces):
    """{position: the index's Choice of that paragraph} of the paragraphs where `pieces`
    occur, or {} where the address is not indexed (yet)."""
    searcher = own_searcher()
    docnum = None if searcher is None else searcher.document_number(django_id=str(speech.pk))
    if docnum is None:
        return {}
    text = indexed_layout(searcher, docnum)
    if text is None:
        return {}
    chosen = choose(text, names=len(searchable_names(speech)), pieces=pieces, limit=None)
    return {choice.position: choice for choice in chosen or ()}
