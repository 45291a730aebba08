"""Names in pinyin, stored with each person, organization and event (pypinyin), so that 周宇
is found by `zhouyu`, `zhou yu` or `zy`.

A record keeps its forms in one field, separated by spaces: the whole name in pinyin without
spaces and its initials, for each name it goes by ("zhongguozhouchenggongyexiehui zgzcgyxh
zhouchengxiehui zcxh"). A query matches the start of a form.
"""

import re

_NOT_CHINESE = "\0"  # marks what pypinyin passed through unconverted
_LETTERS = re.compile(r"[^a-z]")
# What a reader may type between syllables: spaces and the apostrophe of xi'an.
_BETWEEN = re.compile(r"[\s'’·-]+")
_QUERY = re.compile(r"[a-z]{2,60}")
# A surname may be read otherwise than the word it also is (单 shan, 曾 zeng).
SURNAME_READINGS = 3


def forms(*names, surname=False):
    """The stored pinyin of a record going by `names` (a person's: `surname`, its first
    character read every way it can be)."""
    found = []
    for name in names:
        if name:
            found += _name_forms(name, surname=surname)
    return " ".join(dict.fromkeys(f for f in found if f))


def _name_forms(name, *, surname):
    # Imported when a name is first saved: its dictionaries take some 57 MB, which a web
    # worker that only serves readers never needs (a query needs no dictionary).
    from pypinyin import Style, lazy_pinyin, pinyin

    pieces = lazy_pinyin(name, errors=lambda text: [_NOT_CHINESE + text])
    readings = [pieces[0]]
    if surname and not pieces[0].startswith(_NOT_CHINESE):
        readings += pinyin(name[0], style=Style.NORMAL, heteronym=True)[0][:SURNAME_READINGS]
    found = []
    for reading in dict.fromkeys(readings):
        syllables = [reading, *pieces[1:]]
        whole = "".join(_letters(s) for s in syllables)
        initials = "".join(_letters(s) if s.startswith(_NOT_CHINESE) else s[:1] for s in syllables)
        # ü is v in pypinyin (lv); readers type u as often.
        found += [whole, initials, whole.replace("v", "u")]
    return found


def _letters(piece):
    return _LETTERS.sub("", piece.lower())


def query(text):
    """The letters a pinyin search for `text` looks for (`zhou yu`, `Zhou'Yu` → zhouyu), or ""
    when `text` cannot be pinyin (Chinese, digits, a single letter)."""
    letters = _BETWEEN.sub("", text.strip().lower())
    return letters if _QUERY.fullmatch(letters) else ""
