"""The fixed query mix, shared by our pages, our API and the FTS5 baseline."""

import random
import re
from collections import Counter

NO_RESULTS = "龘靐齉龖"
CJK = re.compile("[\u4e00-\u9fff]+")
CJK_WORD = re.compile("[\u4e00-\u9fff]{2,}")


def mix(*, rare_word, facet_year):
    """(label, query) pairs, in the issue's order."""
    return [
        ("common word", "发展"),
        ("rare word", rare_word),
        ("two-word AND", "经济 改革"),
        ("quoted phrase", '"高质量发展"'),
        ("traditional", "經濟發展"),
        ("1-char substring", "轴"),
        ("3-char substring", "质生产"),
        ("facet filter", f"发展 year:{facet_year}"),
        ("no results", NO_RESULTS),
    ]


def pick_rare_word(token_lists, seed_index=7):
    """A 2+ character CJK word found in 2 to 5 documents: deterministic for one corpus."""
    df = Counter()
    for tokens in token_lists:
        df.update({t for t in tokens if len(t) >= 2 and "\u4e00" <= t[0] <= "\u9fff"})
    rare = sorted(
        w for w, n in df.items() if 2 <= n <= 5 and all("\u4e00" <= c <= "\u9fff" for c in w)
    )
    return rare[(seed_index * 7919) % len(rare)] if rare else "轴承"


def pick_facet_year(docs):
    years = Counter(d.date[:4] for d in docs if d.date)
    return years.most_common(1)[0][0] if years else "2024"


def drawn_mix(paragraphs_by_pk, token_lists, *, seed, count=60, facet_year="2024"):
    """(label, query) pairs drawn at run time from the corpus: substrings of 1 to 8 characters,
    jieba words, quoted phrases, and some with a year filter. `seed` is printed with the run,
    so a run can be repeated."""
    rng = random.Random(seed)
    pks = sorted(pk for pk, paras in paragraphs_by_pk.items() if paras)
    words = sorted({t for tokens in token_lists for t in tokens if CJK_WORD.fullmatch(t)})
    out = []
    while len(out) < count and pks and words:
        kind = ("substring", "word", "phrase", "filtered")[len(out) % 4]
        if kind == "word":
            query = rng.choice(words)
        else:
            runs = CJK.findall(rng.choice(paragraphs_by_pk[rng.choice(pks)]))
            if not runs:
                continue
            run = rng.choice(runs)
            size = min(len(run), rng.randint(1, 8) if kind != "phrase" else rng.randint(4, 8))
            start = rng.randint(0, len(run) - size)
            query = run[start : start + size]
            if kind == "phrase":
                query = f"“{query}”"
            elif kind == "filtered":
                query = f"{query} year:{facet_year}"
        out.append((f"{kind} {len(out) + 1}", query))
    return out
