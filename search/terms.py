"""What a vocabulary term may be: a run of characters jieba keeps together, nothing else.

jieba cuts text at every character outside its word runs (re_han_default: CJK ideographs,
letters, digits), so a term with a space, a dash or a bracket could never be one word.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .engine.analysis import fold

MAX_LENGTH = 30
# jieba's run characters, as folding leaves them (lower case, half-width, simplified).
_RUN_CHAR = re.compile(r"[\u4e00-\u9fd5a-z0-9]")
_MARKUP = re.compile(r"[<>]|&#?\w+;")
# Between synonyms: a line break, 、 or a comma (full- or half-width), or a semicolon.
_SYNONYM_SEPARATORS = re.compile(r"[\r\n、，,；;]+")


def validate_term(value):
    """Refuse, with a message saying why, what jieba could never keep as one word."""
    text = value.strip()
    if not text:
        raise ValidationError(_("术语不能为空。"), code="blank")
    if len(text) > MAX_LENGTH:
        raise ValidationError(
            _("“%(term)s…”太长：术语最多 %(max)d 个字，这里有 %(n)d 个。")
            % {"term": text[:10], "max": MAX_LENGTH, "n": len(text)},
            code="max_length",
        )
    if _MARKUP.search(text):
        raise ValidationError(_("术语不能含有 HTML 标记或尖括号。"), code="markup")
    if any(ch.isspace() for ch in text):
        raise ValidationError(
            _("“%(term)s”中有空格：jieba 在空格处总会切开，请去掉空格。") % {"term": text},
            code="space",
        )
    others = sorted({ch for ch in fold(text) if not _RUN_CHAR.fullmatch(ch)})
    if others:
        raise ValidationError(
            _("“%(term)s”中有“%(chars)s”：术语只能由汉字、字母和数字组成。")
            % {"term": text, "chars": "".join(others)},
            code="characters",
        )


def clean_synonyms(text, *, term):
    """The synonyms of `term`, one a line, each checked like a term; repeats (after folding)
    and the term itself left out, so that no word is its own synonym."""
    seen, kept, errors = {fold(term)}, [], []
    for synonym in _SYNONYM_SEPARATORS.split(text):
        synonym = synonym.strip()
        if not synonym:
            continue
        try:
            validate_term(synonym)
        except ValidationError as error:
            errors += [_("同义词：%(message)s") % {"message": m} for m in error.messages]
            continue
        if fold(synonym) not in seen:
            seen.add(fold(synonym))
            kept.append(synonym)
    if errors:
        raise ValidationError(errors)
    return "\n".join(kept)
