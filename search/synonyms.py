"""The vocabulary's synonyms as search reads them: each folded term or synonym with the other
folded forms of its entry (十四五 ↔ 第十四个五年规划), read once and again after a change
(search.vocabulary.refresh drops them)."""

import threading

from .engine.analysis import fold
from .models import VocabularyTerm

_lock = threading.Lock()
_groups = None


def of(phrase):
    """The folded strings that mean what the folded `phrase` means, itself left out."""
    global _groups
    with _lock:
        if _groups is None:
            _groups = _read()
        return _groups.get(phrase, ())


def forget():
    global _groups
    with _lock:
        _groups = None


def _read():
    groups = {}
    for entry in VocabularyTerm.objects.only("term", "synonyms"):
        forms = list(dict.fromkeys(fold(w) for w in [entry.term, *entry.synonym_list()]))
        if len(forms) > 1:
            for form in forms:
                # A synonym cycle across entries only adds the same forms again: harmless.
                others = [f for f in forms if f != form]
                groups[form] = tuple(dict.fromkeys([*groups.get(form, ()), *others]))
    return groups
