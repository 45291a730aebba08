"""The jieba tokens both engines see: the search app's own folding and jieba set-up if present."""

import pickle
import re
import sys
import time

_WORDLIKE = re.compile(r"[0-9A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def _ours():
    try:
        from search.engine.analysis import fold, jieba_tokenizer
    except ImportError:
        return None
    return fold, jieba_tokenizer


def source():
    return (
        "search.engine.analysis (fold + jieba_tokenizer)" if _ours() else "stock jieba, no folding"
    )


def fold(text):
    ours = _ours()
    return ours[0](text) if ours else text.lower()


_fallback = None


def tokenizer():
    """The process's jieba Tokenizer, dictionary already loaded (that load is never timed)."""
    global _fallback
    ours = _ours()
    if ours:
        return ours[1]()
    if _fallback is None:
        import jieba

        _fallback = jieba.Tokenizer()
        _fallback.initialize()
    return _fallback


def cut(tok, folded):
    """Word-like jieba tokens of already folded text, accurate mode with HMM."""
    return [w for w in tok.cut(folded, HMM=True) if _WORDLIKE.search(w)]


def main(source, result):
    """`python -m bench.tokens TEXTS OUT`: cut the pickled folded texts, timing the cutting
    only (the dictionary is loaded first); write (token lists, seconds) to OUT."""
    import django

    django.setup()
    tok = tokenizer()
    with open(source, "rb") as handle:
        folded = pickle.load(handle)
    start = time.perf_counter()
    out = [cut(tok, f) for f in folded]
    seconds = time.perf_counter() - start
    with open(result, "wb") as handle:
        pickle.dump((out, seconds), handle)


if __name__ == "__main__":
    main(*sys.argv[1:3])
