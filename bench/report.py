"""The printed table (Markdown, so that one run's output can be committed as it is)."""


def _f(x, fmt="{:,.1f}", unit=""):
    return "n/a" if x is None else fmt.format(x) + unit


def _lat(s):
    if not s:
        return "n/a"
    return f"{s['p50']:,.1f} / {s['p95']:,.1f} / {s['p99']:,.1f} ms"


def _met(ok):
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _check(value, test):
    return None if value is None else test(value)


def table(run):
    v, d, missing = run.values, run.details, run.missing
    serving = d.get("serving", {})
    rows = [
        ("| measure | ours | SQLite FTS5 / reference | ratio | target |"),
        ("|---|---|---|---|---|"),
    ]

    def row(name, ours, ref="", ratio="", target=""):
        rows.append(f"| {name} | {ours} | {ref} | {ratio} | {target} |")

    row(
        "corpus",
        f"{_f(v.get('corpus_docs'), '{:,}')} docs, {_f(v.get('corpus_chars'), '{:,}')} chars",
        f"{_f(d.get('text_mb'), '{:,.1f}')} MB UTF-8",
    )
    imp = d.get("import", {})
    if imp:
        row(
            "import (real service)",
            f"{imp['docs_per_s']:,.1f} docs/s, {imp['chars_per_s'] / 1000:,.0f} k chars/s",
            imp["how"] + (f"; {imp['failures']} refused" if imp["failures"] else ""),
        )
        dup = imp.get("near_duplicate_check_s")
        if isinstance(dup, dict):
            row(
                "near-duplicate check of one upload against all stored",
                f"{dup['warm'] * 1000:,.0f} ms (first upload of a process: {dup['cold']:,.1f} s)",
            )
    jieba = d.get("jieba_alone", {})
    rb = d.get("rebuild", {})
    ratio = v.get("index_vs_jieba_ratio")
    row(
        "indexing (rebuild_index)",
        f"{_f(_k(v.get('index_chars_per_s')), '{:,.1f}')} k chars/s, "
        f"{_f(rb.get('docs_per_s'), '{:,.1f}')} docs/s",
        f"jieba alone, 1 process: {_f(_k(jieba.get('chars_per_s')), '{:,.1f}')} k chars/s",
        _f(ratio, "{:.2f}×"),
        f"≥ 1.0× — {_met(_check(ratio, lambda r: r >= 1.0))}",
    )
    page, api, fts = (
        d.get(k, {}).get("all")
        for k in ("search_page_latency_ms", "api_latency_ms", "fts5_latency_ms")
    )
    pr = v.get("search_page_vs_fts5_p95_ratio")
    row(
        "results page p50 / p95 / p99 (result cache emptied)",
        _lat(page),
        _lat(fts),
        _f(pr, "{:.1f}× (p95)"),
        f"≤ 3× — {_met(_check(pr, lambda r: r <= 3))}",
    )
    plain = d.get("search_page_no_synonyms_latency_ms", {}).get("all")
    if plain:
        row(
            "results page, synonyms off (`syn=0`; result cache emptied)", _lat(plain), _lat(fts), ""
        )
    warm = d.get("search_page_warm_latency_ms", {}).get("all")
    if warm:
        row("results page, repeated (result cache warm)", _lat(warm), _lat(fts), "")
    uncached = d.get("search_page_uncached_latency_ms", {}).get("all")
    if uncached and fts:
        row(
            "results page, nothing cached (decoded posting lists emptied too)",
            _lat(uncached),
            _lat(fts),
            _f(uncached["p95"] / fts["p95"], "{:.1f}× (p95)"),
            "",
        )
    ar = (
        (v["api_p95_ms"] / v["fts5_p95_ms"])
        if v.get("api_p95_ms") and v.get("fts5_p95_ms")
        else None
    )
    row(
        "/api/v1/search p50 / p95 / p99 (cache emptied)",
        _lat(api),
        _lat(fts),
        _f(ar, "{:.1f}× (p95)"),
    )
    drawn, drawn_fts = (
        d.get(k, {}).get("all") for k in ("drawn_search_page_latency_ms", "drawn_fts5_latency_ms")
    )
    dr = v.get("drawn_search_page_vs_fts5_p95_ratio")
    seed = d.get("drawn_mix", {}).get("seed", "n/a")
    row(
        f"results page, drawn mix (seed {seed}; result cache emptied)",
        _lat(drawn),
        _lat(drawn_fts),
        _f(dr, "{:.1f}× (p95)"),
        f"≤ 1.5× — {_met(_check(dr, lambda r: r <= 1.5))}",
    )
    count = d.get("fts5_count_latency_ms", {}).get("all")
    for name, label in (
        ("trends", "/api/v1/trends, one term"),
        ("concordance", "/api/v1/concordance, page 1"),
    ):
        ratio = v.get(f"{name}_vs_fts5_count_p95_ratio")
        row(
            f"{label} (every cache emptied) vs FTS5 count(*)",
            _lat(d.get(f"{name}_latency_ms", {}).get("all")),
            _lat(count),
            _f(ratio, "{:.1f}× (p95)"),
            f"≤ 3× — {_met(_check(ratio, lambda r: r <= 3))}",
        )
    for name, label in (
        ("trends_first_ask", "/api/v1/trends, one term"),
        ("concordance_first_ask", "/api/v1/concordance, page 1"),
    ):
        row(
            f"{label} (counts and posting lists emptied, columns loaded) vs FTS5 count(*)",
            _lat(d.get(f"{name}_latency_ms", {}).get("all")),
            _lat(count),
            _f(v.get(f"{name}_vs_fts5_count_p95_ratio"), "{:.1f}× (p95)"),
            "",
        )
    rec, frec = v.get("substring_recall"), v.get("fts5_substring_recall")
    row(
        f"substring recall ({d.get('recall_samples', 'n/a')} random, 1–8 chars)",
        _f(rec, "{:.1%}"),
        _f(frec, "{:.1%}"),
        "",
        f"100% — {_met(_check(rec, lambda r: r >= 1.0))}",
    )
    for name, label in (
        ("speech_long_tail", "address page (each once, not in the page cache)"),
        ("speech_page", "address page (10 addresses, page cache warm)"),
        ("list", "address list"),
        ("search_page", "results page (the 9 queries)"),
        ("search_long_tail", "results page (random substrings, each once)"),
        ("ceiling", "do-nothing view"),
    ):
        s = serving.get(name)
        ours = f"{s['rps']:,.0f} req/s, p95 {s['p95_ms']:,.0f} ms" if s and s["p95_ms"] else "n/a"
        ceiling = serving.get("ceiling")
        frac = s["rps"] / ceiling["rps"] if s and ceiling and ceiling["rps"] else None
        target = ""
        if name == "speech_long_tail":
            target = f"≥ 50% of ceiling — {_met(_check(frac, lambda r: r >= 0.5))}"
        if name == "search_long_tail":
            target = f"≥ 30% of ceiling — {_met(_check(frac, lambda r: r >= 0.3))}"
        row(
            f"gunicorn 2 workers: {label}",
            ours,
            "",
            _f(frac, "{:.0%} of ceiling") if name != "ceiling" else "",
            target,
        )
    fr = v.get("freshness_s")
    trials = d.get("freshness_trials_s")
    row(
        "freshness (admin publish → searchable), median",
        _f(fr, "{:.2f} s"),
        f"max {max(trials):.2f} s over {len(trials)}" if trials else "",
        "",
        f"< 2 s — {_met(_check(fr, lambda x: x < 2))}",
    )
    rss = v.get("worker_rss_mb")
    row(
        "peak RSS: web worker",
        _f(rss, "{:,.0f} MB"),
        _private(d.get("worker_memory_mb")),
        "",
        f"< 250 MB — {_met(_check(rss, lambda x: x < 250))}",
    )
    row(
        "peak RSS: indexer (run_indexer)",
        _f(d.get("indexer_peak_rss_mb"), "{:,.0f} MB"),
        _private([d.get("indexer_memory_mb") or {}]),
    )
    row("peak RSS: rebuild_index (largest process)", _f(rb.get("peak_rss_mb"), "{:,.0f} MB"))
    f5 = d.get("fts5", {})
    row(
        "index size",
        f"{_f(d.get('index_mb'), '{:,.0f}')} MB = {_f(d.get('index_mb_per_text_mb'), '{:.2f}')}"
        " MB per MB of text",
        f"{_f(f5.get('mb'), '{:,.0f}')} MB = {_f(f5.get('mb_per_text_mb'), '{:.2f}')} MB per MB",
    )
    out = "\n".join(rows)
    out += "\n\n" + per_query(d)
    if missing:
        out += "\n\nNot measured in this run:\n" + "\n".join(
            f"- {name}: n/a (not available: {why})" for name, why in missing.items()
        )
    return out


def _private(mems):
    """At the end: private (anonymous) and file-backed (mapped index, shared) parts."""
    mems = [m for m in mems or [] if m]
    if not mems:
        return ""
    m = max(mems, key=lambda m: m.get("VmHWM", 0))
    return (
        f"at the end: {m.get('RssAnon', 0):,.0f} MB private + "
        f"{m.get('RssFile', 0):,.0f} MB mapped files"
    )


def _k(x):
    return None if x is None else x / 1000


def per_query(d):
    page = d.get("search_page_latency_ms", {})
    api = d.get("api_latency_ms", {})
    fts = d.get("fts5_latency_ms", {})
    counts = d.get("hit_counts", {})
    lines = [
        "| query | results page p95 | API p95 | FTS5 p95 | hits: ours / FTS5 |",
        "|---|---|---|---|---|",
    ]
    for label, q in d.get("query_mix", []):
        c = counts.get(label, {})

        def p95(src, label=label):
            s = src.get(label)
            return f"{s['p95']:,.1f} ms" if s else "n/a"

        lines.append(
            f"| {label}: `{q}` | {p95(page)} | {p95(api)} | {p95(fts)} | "
            f"{c.get('ours', 'n/a')} / {c.get('fts5', 'n/a')} |"
        )
    return "\n".join(lines)
