"""What an address is about: its keywords, by TF-IDF with the IDF of this archive (not jieba's
news corpus), and the addresses most like it, found by BM25 over those keywords."""

import math
import re
from collections import Counter

from .analysis import word_ends
from .collect import collect
from .query.plan import Or, Plan, Term
from .store import FOLDED, WORDS, document_texts

KEYWORDS = 10
RELATED = 5
# A keyword is a word of two or more Chinese characters, or a Latin word.
_KEYWORD = re.compile(r"[\u4e00-\u9fff]{2,}|[a-z]{2,}")
# Words that say nothing of what an address is about, however rare they are in it.
STOP_WORDS = frozenset(
    "我们 你们 他们 我国 这个 那个 这些 那些 一个 一些 以及 同时 通过 进行 已经 还是 如果 因为 所以 "
    "但是 而且 并且 或者 以上 以下 其中 之一 方面 问题 情况 有关 对于 关于 为了 由于 可以 能够 应该 "
    "必须 今年 去年 明年 目前 现在 各位 同志 同志们 朋友 朋友们 代表 各位代表 女士 先生 感谢 谢谢".split()
)


def words_of(folded, lengths):
    """The jieba words of an indexed text, cut where the index cut them (no jieba here)."""
    ends = word_ends(lengths).tolist()
    return [folded[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def keywords_of(searcher, docnum, *, preferred=frozenset(), limit=KEYWORDS):
    """Up to `limit` keywords of a document, best first: occurrences × log(N / documents
    holding the word), words in `preferred` (the archive's vocabulary) counting double."""
    folded = document_texts(searcher, FOLDED).text(docnum)
    lengths = document_texts(searcher, WORDS).text(docnum)
    if not folded or lengths is None:
        return []
    counts = Counter(
        w for w in words_of(folded, lengths) if _KEYWORD.fullmatch(w) and w not in STOP_WORDS
    )
    reader = searcher.reader()
    documents = reader.doc_count()
    scored = []
    for word, count in counts.items():
        holding = reader.doc_frequency("text", word)
        if not holding:
            continue
        weight = count * math.log(documents / holding) * (2 if word in preferred else 1)
        scored.append((-weight, word))
    return [word for weight, word in sorted(scored)[:limit] if weight < 0]


def related_to(searcher, docnum, words, *, limit=RELATED):
    """The docnums of up to `limit` documents most like `docnum` by BM25 over `words`."""
    if not words:
        return []
    plan = Plan(Or([Term("text", w) for w in words]))
    found = collect(searcher, plan, page=1, page_size=limit + 1)
    return [d for d in found.docs if d != docnum][:limit]
