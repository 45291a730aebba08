"""The fixed query mix, shared by our pages, our API and the FTS5 baseline."""

from collections import Counter

NO_RESULTS = "龘靐齉龖"


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
