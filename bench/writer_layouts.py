"""How much of indexing is the Whoosh writer, per index layout: `python -m bench.writer_layouts`.

jieba's words are computed first and primed, so each timing is the writer's own cost
(folding, bigrams, postings, commit) in one process. With the cost of jieba alone, it gives the
best throughput two cores could reach with that layout: jieba in one process, writer in the other.
"""

import argparse
import os
import shutil
import tempfile
import time


def layouts():
    from whoosh.fields import ID, TEXT, Schema

    from search.analysis import BigramAnalyzer, CharAnalyzer, JiebaAnalyzer

    def schema(**fields):
        return Schema(id=ID(stored=True, unique=True), **fields)

    return {
        "jieba + bigrams with positions + chars (current)": schema(
            text=TEXT(analyzer=JiebaAnalyzer()),
            grams=TEXT(analyzer=BigramAnalyzer(), phrase=True),
            chars=TEXT(analyzer=CharAnalyzer(), phrase=False),
        ),
        "jieba + bigrams with positions": schema(
            text=TEXT(analyzer=JiebaAnalyzer()),
            grams=TEXT(analyzer=BigramAnalyzer(), phrase=True),
        ),
        "jieba + bigrams without positions": schema(
            text=TEXT(analyzer=JiebaAnalyzer()),
            grams=TEXT(analyzer=BigramAnalyzer(), phrase=False),
        ),
        "jieba only": schema(text=TEXT(analyzer=JiebaAnalyzer())),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.writer_layouts")
    parser.add_argument("--docs", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from whoosh.index import create_in

    from search.analysis import pretokenize, primed_tokens

    from . import corpus, tokens

    texts = ["\n".join(d.paragraphs) for d in corpus.build(args.docs)]
    chars = sum(len(t) for t in texts)
    tok = tokens.tokenizer()
    folded = [tokens.fold(t) for t in texts]
    start = time.perf_counter()
    for f in folded:
        tokens.cut(tok, f)
    jieba_s = time.perf_counter() - start
    primed = {}
    for t in texts:
        primed.update(pretokenize(t))
    print(
        f"{len(texts)} docs, {chars:,} chars; jieba alone {chars / jieba_s / 1000:,.1f} k chars/s"
    )
    print(
        "| layout | writer alone | best on 2 cores (jieba ∥ writer) | vs jieba alone | index MB |"
    )
    print("|---|---|---|---|---|")
    for name, schema in layouts().items():
        folder = tempfile.mkdtemp(prefix="bench-layout-")
        try:
            ix = create_in(folder, schema)
            start = time.perf_counter()
            with primed_tokens(primed):
                writer = ix.writer(limitmb=256, compound=False)
                for i, text in enumerate(texts):
                    fields = {k: text for k in schema.names() if k != "id"}
                    writer.add_document(id=str(i), **fields)
                writer.commit()
            writer_s = time.perf_counter() - start
            size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        best = min(chars / writer_s, 2 * chars / (writer_s + jieba_s))
        print(
            f"| {name} | {chars / writer_s / 1000:,.1f} k chars/s | {best / 1000:,.1f} k chars/s"
            f" | {best / (chars / jieba_s):.2f}× | {size / 1e6:,.0f} |"
        )


if __name__ == "__main__":
    main()
