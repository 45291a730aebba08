"""Chinese text analysis for the search index: folding, jieba tokens and CJK character n-grams.

Everything here is plain Python over strings, so another backend can reuse it; the Whoosh
analyzers at the bottom are thin wrappers. The stored text is never folded: folding happens
inside the analyzers, at index time and at query time alike.
"""

import logging
import re
import sys
import threading
from collections import Counter

import numpy as np
import opencc
from whoosh.analysis import Token, Tokenizer

_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
# Runs of letters, digits and CJK characters (folded text has no full-width or upper case).
# Grams cover them all, so that a query cutting through a number ("0多万") still matches.
GRAM_RUN = re.compile(r"[^\W_]+")
_GRAM_CHAR = re.compile(r"[^\W_]")
# Whitespace between Chinese characters (stray line breaks from PDFs), between Chinese and
# digits ("2024 年"), between digits, and between a Latin letter and a digit ("PM 2.5", "M 2")
# carries no meaning; Latin words keep their spaces, and so does text around punctuation.
_GLUED = f"{_CJK_CLASS}0-9"
_DROPPABLE_SPACE = re.compile(
    rf"(?<=[{_GLUED}])\s+(?=[{_GLUED}])|(?<=[a-z])\s+(?=[0-9])|(?<=[0-9])\s+(?=[a-z])"
)
_GLUED_CHAR = re.compile(f"[{_GLUED}]")
_LATIN = re.compile("[a-z]")
# Between the parts of a document's searchable text. A pilcrow, not a blank line: folding joins
# CJK across whitespace, never across ¶, and jieba cuts there too.
SEPARATOR = "\n¶\n"
_INVISIBLE = {0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}

_t2s = opencc.OpenCC("t2s")


class _FoldTable(dict):
    """str.translate table filled on first sight of each character.

    Conversion is per character, never per phrase, so that folding a substring gives the
    same characters as the same span of the folded whole text: recall depends on that.
    """

    def __missing__(self, code):
        self[code] = value = _fold_char(code)
        return value


def _fold_char(code):
    if code in _INVISIBLE:
        return None
    if 0xFF01 <= code <= 0xFF5E:
        code -= 0xFEE0
    elif code == 0x3000:
        code = 0x20
    elif code == 0x25CB:
        # ○ (a white circle) stands for 〇 in year numerals: many reports print 一九八○年.
        code = 0x3007
    ch = chr(code)
    simplified = _t2s.convert(ch)
    if len(simplified) == 1:
        ch = simplified
    lower = ch.lower()
    return lower if len(lower) == 1 else ch


_TABLE = _FoldTable()


def fold(text):
    """Traditional to simplified, full-width to half-width, lower case, no idle spaces."""
    global _last_folded
    last = _last_folded
    if last[0] is text:
        return last[1]
    folded = text.translate(_TABLE)
    # Most paragraphs hold no whitespace at all; split() finds that faster than the regex.
    if len(folded.split(None, 1)) > 1:
        folded = _DROPPABLE_SPACE.sub("", folded)
    _last_folded = (text, folded)
    return folded


# The last text folded: indexing folds each address's text once for every field that
# analyzes it (jieba, bigrams, characters, the folded column).
_last_folded = (None, "")


_unfold = None
_IGNORABLE = r"[\s\u00ad\u200b-\u200d\u2060\ufeff]*"


def raw_pattern(folded_piece):
    """A regex finding, in unfolded text, whatever folds to `folded_piece`.

    Lets snippet selection scan stored text at C speed and fold only the paragraphs that match.
    """
    global _unfold
    if _unfold is None:
        _unfold = _build_unfold()
    classes = []
    for ch in folded_piece:
        forms = sorted(_unfold.get(ch, set()) | {ch})
        classes.append("[" + "".join(re.escape(f) for f in forms) + "]")
    return re.compile(_IGNORABLE.join(classes))


def _build_unfold():
    unfold = {}
    # _fold_char, not _TABLE: filling the translate table with every code point costs ~25 MB.
    for code in (*range(0xD800), *range(0xE000, 0x10000), *range(0x20000, 0x30000)):
        folded = _fold_char(code)
        if folded is not None and folded != chr(code):
            unfold.setdefault(folded, set()).add(chr(code))
    return unfold


def fold_with_map(text):
    """Return (folded, offsets) where offsets[i] is the index in `text` of folded[i]."""
    translated = text.translate(_TABLE)
    if len(translated) != len(text):  # invisible characters went: rare, done char by char
        return _fold_with_map_slowly(text)
    spans = []
    if len(translated.split(None, 1)) > 1:
        spans = [m.span() for m in _DROPPABLE_SPACE.finditer(translated)]
    if not spans:
        return translated, range(len(text))
    parts, offsets, start = [], [], 0
    for dropped_start, dropped_end in spans:
        parts.append(translated[start:dropped_start])
        offsets += range(start, dropped_start)
        start = dropped_end
    parts.append(translated[start:])
    offsets += range(start, len(translated))
    return "".join(parts), offsets


def _fold_with_map_slowly(text):
    kept = [(i, _TABLE[ord(ch)]) for i, ch in enumerate(text)]
    kept = [(i, ch) for i, ch in kept if ch is not None]
    translated = "".join(ch for _, ch in kept)
    dropped = set()
    for m in _DROPPABLE_SPACE.finditer(translated):
        dropped.update(range(m.start(), m.end()))
    folded = "".join(ch for j, (_, ch) in enumerate(kept) if j not in dropped)
    offsets = [i for j, (i, _) in enumerate(kept) if j not in dropped]
    return folded, offsets


# -- phrases: a query matched as it stands, whitespace never separating a match ------------


def phrase_of(folded):
    """A folded query string as a phrase: whitespace goes, except one space between Latin
    words ("made in china"); the text's own whitespace is then never what separates a match."""
    return re.sub(r"\s+", lambda m: " " if _latin_around(m) else "", folded.strip())


_CHINESE_DIGITS = "〇零一二三四五六七八九"
_DIGIT_OF = {ch: str(max(0, i - 1)) for i, ch in enumerate(_CHINESE_DIGITS)}
_YEAR = re.compile(f"(?:[0-9]{{4}}|[{_CHINESE_DIGITS}]{{4}})(?=年)")


def year_forms(phrase):
    """The other ways a phrase's years are written (2024年, 二〇二四年, 二零二四年): the phrase
    with each year in Arabic numerals, in Chinese numerals with 〇, and with 零; itself left out."""
    if not _YEAR.search(phrase):
        return []
    forms = []
    for zero in (None, "〇", "零"):
        forms.append(_YEAR.sub(lambda m, z=zero: _year_as(m.group(), z), phrase))
    return [f for f in dict.fromkeys(forms) if f != phrase]


def _year_as(year, zero):
    digits = "".join(_DIGIT_OF.get(ch, ch) for ch in year)
    if zero is None:
        return digits
    return "".join(zero if d == "0" else _CHINESE_DIGITS[int(d) + 1] for d in digits)


def ascii_digits(text):
    """Chinese numerals 〇零一…九 as Arabic digits (for year filters: year:二〇二四)."""
    return "".join(_DIGIT_OF.get(ch, ch) for ch in text)


def _latin_around(match):
    text, start, end = match.string, match.start(), match.end()
    return bool(
        start and end < len(text) and _LATIN.match(text[start - 1]) and _LATIN.match(text[end])
    )


def _glued(a, b):
    """Whether folded text can never hold whitespace between the characters a and b: folding
    dropped it (Chinese and digits, Latin and digits), or both are Latin letters of a word."""
    glued_a, glued_b = bool(_GLUED_CHAR.match(a)), bool(_GLUED_CHAR.match(b))
    latin_a, latin_b = bool(_LATIN.match(a)), bool(_LATIN.match(b))
    return (
        (glued_a and glued_b)
        or (latin_a and latin_b)
        or (a.isdigit() and latin_b)
        or (latin_a and b.isdigit())
    )


def phrase_parts(phrase):
    """The runs of a phrase that the index holds as they stand: letters, digits and Chinese
    characters, cut where the text may hold whitespace (between Chinese and Latin) and at
    punctuation and spaces. Every document holding the phrase holds each part."""
    parts = []
    for run in GRAM_RUN.finditer(phrase):
        text, start = run.group(), 0
        for i in range(1, len(text)):
            if not _glued(text[i - 1], text[i]):
                parts.append(text[start:i])
                start = i
        parts.append(text[start:])
    return list(dict.fromkeys(parts))


def is_plain(phrase):
    """Whether the phrase is one run of characters the text can hold only as they stand."""
    return phrase_parts(phrase) == [phrase]


def phrase_pattern(phrase):
    """A regex (str) finding the phrase in folded text, with any whitespace where folded text
    may keep some (around punctuation, between Chinese and Latin)."""
    out = [re.escape(phrase[0])] if phrase else []
    for a, b in zip(phrase, phrase[1:], strict=False):
        if b == " ":
            continue
        gap = r"\s+" if a == " " else "" if _glued(a, b) else r"\s*"
        out.append(gap + re.escape(b))
    return "".join(out)


# -- jieba: set up in this one place, loaded once per process ------------------------------

_jieba = None
_jieba_lock = threading.Lock()
# The archive's own words (its vocabulary), folded and sorted; set by the application.
_extra_words = ()
# Each extra word's frequency in jieba's dictionary before it was added (None: no word).
_before = {}


def set_extra_words(words):
    """Make `words` the words jieba keeps whole besides its dictionary; return whether that
    changed anything. Before jieba loads, they are only kept for the load; afterwards they
    are added to and taken from the loaded dictionary, which is never read again."""
    global _extra_words, _last_cut
    wanted = tuple(sorted({fold(w).strip() for w in words} - {""}))
    with _jieba_lock:
        if wanted == _extra_words:
            return False
        _extra_words = wanted
        if _jieba is not None:
            # All of them again, in one order: the result depends on the words alone, never on
            # the order of earlier changes, so every process cuts text the same way.
            _take_extra_words(_jieba)
            _add_extra_words(_jieba)
        # Memos of segmentation (the last text cut) would give the old cut.
        _last_cut = (None, [])
    return True


def extra_words():
    return _extra_words


def _add_extra_words(tokenizer):
    for word in _extra_words:
        _before[word] = tokenizer.FREQ.get(word)
        tokenizer.add_word(word)


def _take_extra_words(tokenizer):
    """Undo _add_extra_words exactly. Not jieba's del_word: that sets the frequency to 0 and
    forces its HMM to split the word, where jieba would have cut it as it did before."""
    for word, frequency in _before.items():
        tokenizer.total -= tokenizer.FREQ[word]
        # 0: a prefix of longer words only, as add_word leaves the prefixes it creates.
        tokenizer.FREQ[word] = frequency or 0
    _before.clear()


def jieba_tokenizer():
    """The process's jieba tokenizer, with the archive's vocabulary, loaded on first use."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                _jieba = _load_jieba()
    return _jieba


def _load_jieba():
    # Importing jieba (never jieba.analyse, which loads ~130 MB of TF-IDF data).
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    _add_extra_words(tokenizer)
    return tokenizer


def load_for_indexing():
    """jieba and the table of run characters, loaded once: before a rebuild forks workers."""
    jieba_tokenizer()
    _is_word()


def warm_up():
    """Pay jieba's dictionary load and the unfold table once, when a process starts."""
    jieba_tokenizer()
    raw_pattern("")


def jieba_tokens(folded):
    """All of jieba's tokens of already folded text, in order: together they are the text.

    The last text's are kept: indexing asks for them twice, for the word counts and for the
    word boundaries.
    """
    global _last_cut
    last = _last_cut
    if last[0] is folded:
        return last[1]
    tokens = list(jieba_tokenizer().cut(folded, HMM=True))
    _last_cut = (folded, tokens)
    return tokens


_last_cut = (None, [])


def jieba_words(folded):
    """(word, start, end) for each word-like jieba token of already folded text."""
    pos = 0
    for word in jieba_tokens(folded):
        start = pos
        pos += len(word)
        if _GRAM_CHAR.search(word):
            yield word, start, pos


def is_one_word(folded):
    """Whether jieba cuts the folded text as one word."""
    return [w for w, _, _ in jieba_words(folded)] == [folded]


def word_counts(folded):
    """{word: occurrences} of the word-like jieba tokens of already folded text."""
    counts = Counter(jieba_tokens(folded))
    # Tested on each distinct token, not on each occurrence.
    for token in [t for t in counts if not _GRAM_CHAR.search(t)]:
        del counts[token]
    return counts


# The longest token length that word_lengths() writes as one character (below surrogates).
_LONGEST = 0xD7FF


def word_lengths(folded):
    """The lengths of jieba's tokens of already folded text, each written as the character
    of that code point: stored beside the index, they let snippets mark whole words without
    running jieba again. A longer token than _LONGEST counts as several."""
    lengths = []
    for token in jieba_tokens(folded):
        size = len(token)
        while size > _LONGEST:
            lengths.append(_LONGEST)
            size -= _LONGEST
        lengths.append(size)
    return "".join(map(chr, lengths))


def word_ends(lengths):
    """The end offset of each token, from what word_lengths() wrote, as an array."""
    return np.cumsum(code_points(lengths), dtype=np.int64)


def bigrams(folded):
    """(bigram, position, start) over runs; a gap between runs stops phrases spanning them."""
    pos = 0
    for run in GRAM_RUN.finditer(folded):
        s = run.group()
        for i in range(len(s) - 1):
            yield s[i : i + 2], pos + i, run.start() + i
        pos += len(s) + 1


# -- bigrams and characters counted over arrays of code points (the rebuild's path) ---------

_CODE_BITS = 21  # a code point's bits: a bigram is numbered first << 21 | second
_word_chars = None


def code_points(folded):
    """The text's code points, as an array."""
    return np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _is_word():
    """For every code point, whether it is a run character: [^\\W_] is str.isalnum()."""
    global _word_chars
    if _word_chars is None:
        chars = (chr(c).isalnum() for c in range(sys.maxunicode + 1))
        _word_chars = np.fromiter(chars, dtype=bool, count=sys.maxunicode + 1)
    return _word_chars


def run_chars(codes):
    """Whether each of the code points is a run character (GRAM_RUN's [^\\W_])."""
    return _is_word()[codes]


def bigram_numbers(first, second):
    """The numbers of bigrams (first << 21 | second, as bigram_of() reads them), from their
    first and second code points: arrays, or one of each."""
    first, second = np.asarray(first, dtype=np.uint64), np.asarray(second, dtype=np.uint64)
    return (first << np.uint64(_CODE_BITS)) | second


def bigram_codes(codes):
    """(numbers, occurrences) of the bigrams that bigrams() yields, from the text's code
    points; numbers ascending, ordered as the bigrams are (bigram_of() turns one back)."""
    word = run_chars(codes)
    pairs = word[:-1] & word[1:]
    return np.unique(bigram_numbers(codes[:-1], codes[1:])[pairs], return_counts=True)


def bigram_of(number):
    return chr(number >> _CODE_BITS) + chr(number & ((1 << _CODE_BITS) - 1))


def char_codes(codes):
    """(code points, occurrences) of the run characters: what CharTokenizer yields."""
    return np.unique(codes[run_chars(codes)], return_counts=True)


def query_grams(folded_word):
    """The bigram sequence a run must match as a phrase (or the run itself if 1 char)."""
    if len(folded_word) < 2:
        return [folded_word]
    return [folded_word[i : i + 2] for i in range(len(folded_word) - 1)]


# -- Whoosh wrappers -------------------------------------------------------------------------


def _whole_value_token(value, positions, chars, start_pos, start_char, kwargs):
    t = Token(positions, chars, **kwargs)
    t.text = t.original = fold(value)
    t.boost = 1.0
    t.stopped = False
    if positions:
        t.pos = start_pos
    if chars:
        t.startchar, t.endchar = start_char, start_char + len(value)
    return t


class _FoldingTokenizer(Tokenizer):
    """Base: folds the value, maps character offsets back to the original text."""

    def __eq__(self, other):
        return other is not None and type(self) is type(other)

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        if not tokenize:
            yield _whole_value_token(value, positions, chars, start_pos, start_char, kwargs)
            return
        if chars:
            folded, offsets = fold_with_map(value)
        else:
            folded, offsets = fold(value), None
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos, start, end in self.pieces(folded):
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + offsets[start]
                t.endchar = start_char + offsets[end - 1] + 1
            yield t

    def pieces(self, folded):
        raise NotImplementedError


class JiebaTokenizer(_FoldingTokenizer):
    """jieba accurate mode, positions numbered by token, no stemming, no overlaps."""

    def pieces(self, folded):
        for pos, (word, start, end) in enumerate(jieba_words(folded)):
            yield word, pos, start, end

    def counts(self, folded):
        """{term: occurrences} of what pieces() yields (the rebuild's path, search/bulk.py)."""
        return word_counts(folded)


class BigramTokenizer(_FoldingTokenizer):
    """Overlapping bigrams: every 2-character run is one term, and a longer run has all of
    its bigrams (search.evaluation confirms that they are adjacent)."""

    def pieces(self, folded):
        for gram, pos, start in bigrams(folded):
            yield gram, pos, start, start + 2

    # What pieces() yields, counted from code points by the rebuild (search/bulk.py).
    counted_codes = staticmethod(bigram_codes)
    term_of = staticmethod(bigram_of)


class CharTokenizer(_FoldingTokenizer):
    """Each character of the runs, as often as it occurs: one-character queries need no
    positions, and the postings' weights count a character's occurrences (term trends)."""

    def pieces(self, folded):
        for m in _GRAM_CHAR.finditer(folded):
            yield m.group(), 0, m.start(), m.end()

    counted_codes = staticmethod(char_codes)
    term_of = staticmethod(chr)


def JiebaAnalyzer():  # noqa: N802 - named like Whoosh's analyzer factories
    return JiebaTokenizer()


def BigramAnalyzer():  # noqa: N802
    return BigramTokenizer()


def CharAnalyzer():  # noqa: N802
    return CharTokenizer()
