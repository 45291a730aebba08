"""`python -m bench [--quick] [--docs N]`: one run, one table, bench/results/latest.json."""

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .report import table
from .stats import NotAvailable

HERE = Path(__file__).resolve().parent
KEYS = (
    "corpus_docs",
    "corpus_chars",
    "index_chars_per_s",
    "index_vs_jieba_ratio",
    "search_page_p95_ms",
    "api_p95_ms",
    "fts5_p95_ms",
    "search_page_vs_fts5_p95_ratio",
    "substring_recall",
    "fts5_substring_recall",
    "freshness_s",
    "worker_rss_mb",
    "rps_speech_page",
    "rps_search_page",
    "rps_ceiling",
)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a small run, under 3 minutes")
    p.add_argument("--docs", type=int, help="corpus size N (default 10000; 100 with --quick)")
    p.add_argument("--no-serving", action="store_true", help="skip the gunicorn step")
    p.add_argument("--no-freshness", action="store_true", help="skip the indexer step")
    p.add_argument("--recall-samples", type=int)
    p.add_argument("--reps", type=int, help="rounds of the query mix for latency")
    p.add_argument(
        "--dup-check",
        choices=("auto", "on", "off"),
        default="auto",
        help="near-duplicate check during import (auto: on up to 2,000 documents)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=random.randrange(10**6),
        help="seed of the drawn query mix (default: drawn at run time, printed)",
    )
    p.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    p.add_argument("--keep", action="store_true", help="keep the throwaway data directory")
    return p.parse_args(argv)


def say(msg):
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {msg}", file=sys.stderr, flush=True)


class Run:
    """Collects figures and the reason for each figure that could not be taken."""

    def __init__(self):
        self.values = {}
        self.details = {}
        self.missing = {}

    def step(self, name, fn, *, keys=()):
        say(f"{name} …")
        start = time.perf_counter()
        try:
            fn()
        except Exception as error:  # noqa: BLE001 - a failed step is reported, never fatal
            reason = str(error) if isinstance(error, NotAvailable) else repr(error)[:300]
            if not isinstance(error, NotAvailable):
                traceback.print_exc()
            self.missing[name] = reason
            for key in keys:
                self.values.setdefault(key, None)
            say(f"{name}: n/a ({reason})")
        else:
            say(f"{name}: done in {time.perf_counter() - start:.1f} s")


def main(argv=None):
    args = parse_args(argv)
    n = args.docs or (100 if args.quick else 10_000)
    reps = args.reps or (3 if args.quick else 10)
    samples = args.recall_samples or (100 if args.quick else 500)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    (workdir / "data" / "staticfiles").mkdir(parents=True)
    os.environ["ARCHIVE_DATA_DIR"] = str(workdir / "data")
    # SQLite in the throwaway directory, whatever the shell names for the real site.
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    try:
        run = execute(args, n=n, reps=reps, samples=samples, workdir=workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"kept {workdir}")
    write(run, args.out)
    print(table(run))
    return 0


def execute(args, *, n, reps, samples, workdir):
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from . import corpus, freshness, fts5, indexing, loading, queries, searching, serving, tokens

    run = Run()
    v, d = run.values, run.details
    d["machine"] = machine()
    d["tokens"] = tokens.source()
    call_command("migrate", verbosity=0, interactive=False)
    state = {}

    def build_corpus():
        docs = corpus.build(n)
        state["docs"] = docs
        d["corpus_requested"] = n

    run.step("corpus", build_corpus, keys=("corpus_docs", "corpus_chars"))

    def do_import():
        docs = state["docs"]
        check = {"on": True, "off": False}.get(args.dup_check, len(docs) <= 2000)
        pks, failures, seconds, how = loading.import_corpus(
            docs,
            near_duplicate_check=check,
            progress=lambda i, s: say(f"  imported {i} in {s:.0f} s"),
        )
        state["pks"] = [pk for pk in pks if pk]
        state["addresses"] = [
            pk for pk, doc in zip(pks, docs, strict=True) if pk and doc.is_address
        ]
        texts = loading.stored_texts(state["pks"])
        state["texts"] = texts
        chars = sum(len(t) for t in texts.values())
        v["corpus_docs"] = len(texts)
        v["corpus_chars"] = chars
        d["import"] = {
            "how": how,
            "seconds": seconds,
            "docs_per_s": len(texts) / seconds,
            "chars_per_s": chars / seconds,
            "failures": len(failures),
            "failure_examples": failures[:5],
        }
        try:
            cold, warm = loading.near_duplicate_check_seconds(texts[state["pks"][0]])
            d["import"]["near_duplicate_check_s"] = {"cold": cold, "warm": warm}
        except (ImportError, AttributeError) as error:
            d["import"]["near_duplicate_check_s"] = f"n/a: {error}"

    run.step("import", do_import, keys=("corpus_docs", "corpus_chars"))
    if "texts" not in state:
        write(run, args.out)
        print(table(run))
        raise SystemExit("no corpus imported: nothing else can be measured")
    texts = state["texts"]
    pks = sorted(texts)

    def jieba_alone():
        token_lists, seconds = indexing.jieba_alone([texts[pk] for pk in pks], workdir)
        state["tokens"] = dict(zip(pks, token_lists, strict=True))
        d["jieba_alone"] = {"seconds": seconds, "chars_per_s": v["corpus_chars"] / seconds}

    run.step("jieba alone", jieba_alone)

    def rebuild():
        before = indexing.last_task_pk()
        seconds, rss = indexing.rebuild(workdir / "rebuild.log")
        d["rebuild"] = {
            "seconds": seconds,
            "peak_rss_mb": rss,
            "docs_per_s": len(pks) / seconds,
            "queued_tasks_covered": indexing.forget_satisfied_tasks(before),
        }
        v["index_chars_per_s"] = v["corpus_chars"] / seconds
        if "jieba_alone" in d:
            v["index_vs_jieba_ratio"] = v["index_chars_per_s"] / d["jieba_alone"]["chars_per_s"]
        text_mb = sum(len(t.encode("utf-8")) for t in texts.values()) / 1e6
        d["index_mb"] = indexing.index_bytes() / 1e6
        d["index_mb_per_text_mb"] = d["index_mb"] / text_mb
        d["text_mb"] = text_mb

    run.step("rebuild", rebuild, keys=("index_chars_per_s", "index_vs_jieba_ratio"))

    def build_fts5():
        if "tokens" not in state:
            raise RuntimeError("no jieba tokens")
        from speeches.models import Speech

        years = {
            pk: str(y.year) if y else ""
            for pk, y in Speech.objects.filter(pk__in=pks).values_list("pk", "date")
        }
        fts = fts5.Fts5(workdir / "fts5.sqlite3")
        seconds = fts.insert((pk, state["tokens"][pk], years[pk]) for pk in pks)
        state["fts"] = fts
        d["fts5"] = {
            "insert_seconds": seconds,
            "mb": fts.size_bytes() / 1e6,
            "mb_per_text_mb": fts.size_bytes() / 1e6 / d.get("text_mb", float("nan")),
        }

    run.step("fts5 build", build_fts5)

    rare = queries.pick_rare_word(state.get("tokens", {}).values())
    year = queries.pick_facet_year(state["docs"])
    mix = queries.mix(rare_word=rare, facet_year=year)
    d["query_mix"] = mix
    client = Client()
    # The harness holds the corpus, its texts and 13 million tokens: frozen, the garbage
    # collector no longer walks them during the timed requests (a web worker holds none).
    state["token_sample"] = [state["tokens"][pk] for pk in pks[:2000]] if "tokens" in state else []
    state.pop("tokens", None)
    gc.collect()
    gc.freeze()

    def latency():
        searching.check_page(client)
        timers = {"search_page": searching.http_timer(client, "/search/")}
        # What the vocabulary's synonyms cost a search: the same page with them off.
        timers["search_page_no_synonyms"] = searching.http_timer(
            client, "/search/", extra={"syn": "0"}
        )
        try:
            searching.check_api(client)
            timers["api"] = searching.http_timer(client, "/api/v1/search")
        except NotAvailable as error:
            run.missing["api latency"] = str(error)
        if "fts" in state:
            timers["fts5"] = searching.fts5_timer(state["fts"])
        for name, found in searching.latency_side_by_side(mix, reps, timers).items():
            d[f"{name}_latency_ms"] = found
            v[f"{name}_p95_ms"] = found["all"]["p95"]
        if v.get("fts5_p95_ms"):
            v["search_page_vs_fts5_p95_ratio"] = v["search_page_p95_ms"] / v["fts5_p95_ms"]
        d["search_page_warm_latency_ms"] = searching.latency_http(
            client, "/search/", mix, reps, forget=None
        )
        d["search_page_uncached_latency_ms"] = searching.latency_http(
            client, "/search/", mix, reps, forget=searching.forget_everything
        )

    run.step(
        "search latency (results page, API and FTS5 side by side)",
        latency,
        keys=("fts5_p95_ms", "search_page_p95_ms", "search_page_vs_fts5_p95_ratio", "api_p95_ms"),
    )

    def drawn_latency():
        paragraphs = {pk: loading.paragraphs_of(pk) for pk in pks[:2000]}
        drawn = queries.drawn_mix(
            paragraphs, state.get("token_sample", []), seed=args.seed, facet_year=year
        )
        d["drawn_mix"] = {"seed": args.seed, "queries": drawn}
        say(f"  drawn query mix: {len(drawn)} queries, seed {args.seed}")
        timers = {
            "search_page": searching.http_timer(
                client, "/search/", forget=searching.forget_results
            ),
            "fts5": searching.fts5_timer(state["fts"]),
        }
        for name, found in searching.latency_side_by_side(drawn, 1, timers).items():
            d[f"drawn_{name}_latency_ms"] = found
            v[f"drawn_{name}_p95_ms"] = found["all"]["p95"]
        v["drawn_search_page_vs_fts5_p95_ratio"] = (
            v["drawn_search_page_p95_ms"] / v["drawn_fts5_p95_ms"]
        )

    def research_latency():
        drawn = d.get("drawn_mix", {}).get("queries", [])
        terms = [(label, q) for label, q in drawn if label.split()[0] in ("word", "substring")]
        terms = terms[:20]
        timers = {
            "trends": searching.http_timer(client, "/api/v1/trends", forget=searching.forget_all),
            "concordance": searching.http_timer(
                client, "/api/v1/concordance", forget=searching.forget_all
            ),
            "trends_first_ask": searching.http_timer(
                client, "/api/v1/trends", forget=searching.forget_counts
            ),
            "concordance_first_ask": searching.http_timer(
                client, "/api/v1/concordance", forget=searching.forget_counts
            ),
            "fts5_count": searching.fts5_count_timer(state["fts"]),
        }
        for name, found in searching.latency_side_by_side(terms, 1, timers).items():
            d[f"{name}_latency_ms"] = found
            v[f"{name}_p95_ms"] = found["all"]["p95"]
        for name in ("trends", "concordance", "trends_first_ask", "concordance_first_ask"):
            v[f"{name}_vs_fts5_count_p95_ratio"] = v[f"{name}_p95_ms"] / v["fts5_count_p95_ms"]

    run.step(
        "search latency, drawn mix (results page with results emptied, FTS5)",
        drawn_latency,
        keys=(
            "drawn_search_page_p95_ms",
            "drawn_fts5_p95_ms",
            "drawn_search_page_vs_fts5_p95_ratio",
        ),
    )
    run.step(
        "trends and first KWIC page, one term each, every cache emptied (FTS5 count(*))",
        research_latency,
        keys=(
            "trends_p95_ms",
            "concordance_p95_ms",
            "fts5_count_p95_ms",
            "trends_vs_fts5_count_p95_ratio",
            "concordance_vs_fts5_count_p95_ratio",
        ),
    )

    def counts():
        d["hit_counts"] = searching.hit_counts(client, state["fts"], mix)

    run.step("hit counts", counts)

    def recall():
        paragraphs = {pk: loading.paragraphs_of(pk) for pk in pks}
        drawn = searching.draw_substrings(paragraphs, samples)
        # Queries no worker has seen: the serving step's uncached results pages.
        state["long_tail"] = [q for q, _ in searching.draw_substrings(paragraphs, 2500, seed=11)]
        d["recall_samples"] = len(drawn)
        if "fts" in state:
            fts_recall, fts_misses = searching.recall(drawn, state["fts"].contains)
            v["fts5_substring_recall"] = fts_recall
            d["fts5_recall_miss_examples"] = fts_misses[:10]
        ours, misses = searching.recall(drawn, searching.our_contains_fn())
        v["substring_recall"] = ours
        d["recall_miss_examples"] = misses[:10]

    run.step("recall", recall, keys=("substring_recall", "fts5_substring_recall"))

    if not args.no_freshness:

        def fresh():
            times, rss = freshness.measure(workdir / "indexer.log", trials=2 if args.quick else 5)
            d["freshness_trials_s"] = times
            v["freshness_s"] = sorted(times)[len(times) // 2]
            d["indexer_peak_rss_mb"] = rss.get("VmHWM")
            d["indexer_memory_mb"] = rss

        run.step("freshness", fresh, keys=("freshness_s",))
    else:
        run.missing["freshness"] = "skipped (--no-freshness)"
        v["freshness_s"] = None

    if not args.no_serving:

        def serve():
            results, rss = serving.measure(
                speech_pks=state["addresses"][:10] or pks[:10],
                queries=[q for _, q in mix],
                long_tail=state.get("long_tail", []),
                speech_tail=state["pks"][10:3010],
                log_path=workdir / "gunicorn.log",
                requests=300 if args.quick else 3000,
                seconds=3 if args.quick else 15,
            )
            d["worker_memory_mb"] = results.pop("worker_memory_mb")
            d["serving"] = results
            v["worker_rss_mb"] = rss
            # Addresses each requested once, like the searches below: ten cached pages would
            # time the page cache alone.
            v["rps_speech_page"] = results.get("speech_long_tail", results["speech_page"])["rps"]
            # Unseen queries when there are any: repeats of nine would time the result cache.
            v["rps_search_page"] = results.get("search_long_tail", results["search_page"])["rps"]
            v["rps_ceiling"] = results["ceiling"]["rps"]

        run.step(
            "serving",
            serve,
            keys=("worker_rss_mb", "rps_speech_page", "rps_search_page", "rps_ceiling"),
        )
    else:
        run.missing["serving"] = "skipped (--no-serving)"
        for key in ("worker_rss_mb", "rps_speech_page", "rps_search_page", "rps_ceiling"):
            v[key] = None
    if "fts" in state:
        state["fts"].close()
    return run


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def write(run, out):
    out.parent.mkdir(parents=True, exist_ok=True)
    values = {key: run.values.get(key) for key in KEYS}
    out.write_text(json.dumps(values, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    details = {"values": values, "details": run.details, "not_available": run.missing}
    out.with_name(out.stem + "-details.json").write_text(
        json.dumps(details, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    sys.exit(main())
