"""How much of indexing is the Whoosh writer, per index layout: `python -m bench.writer_layouts`.

Every field's postings are computed first (search.backend.field_postings, as the rebuild's
worker processes do) and primed, so each timing is the writer's own cost (adding postings,
commit) in one process. With the cost of jieba alone, it gives the
best throughput two cores could reach with that layout: jieba in one process, writer in the other.
"""

import argparse
import os
import shutil
import tempfile
import time

from search.analysis import _FoldingTokenizer, jieba_words


class BoundaryTokenizer(_FoldingTokenizer):
    """The bigram across each jieba token boundary only: with the jieba lexicon (bigrams
    inside a token) it finds every 2-character run without positions. Not used by the
    app: the leanest layout with exact 2-character recall, timed for comparison."""

    def pieces(self, folded):
        previous = None
        for word, start, end in jieba_words(folded):
            if previous is not None and previous[2] == start:
                yield previous[0][-1] + word[0], 0, start - 1, start + 1
            previous = (word, start, end)


def layouts():
    from whoosh.fields import ID, Schema

    from search.analysis import BigramAnalyzer, CharAnalyzer, JiebaAnalyzer
    from search.backend import PreparedText

    def schema(**analyzers):
        fields = {
            name: PreparedText(name, analyzer=analyzer, phrase=phrase)
            for name, (analyzer, phrase) in analyzers.items()
        }
        return Schema(id=ID(stored=True, unique=True), **fields)

    jieba = (JiebaAnalyzer(), False)
    return {
        "jieba + bigrams with positions + chars (current)": schema(
            text=jieba, grams=(BigramAnalyzer(), True), chars=(CharAnalyzer(), False)
        ),
        "jieba + bigrams with positions": schema(text=jieba, grams=(BigramAnalyzer(), True)),
        "jieba + bigrams without positions": schema(text=jieba, grams=(BigramAnalyzer(), False)),
        "jieba + boundary bigrams + chars, no positions": schema(
            text=jieba, edges=(BoundaryTokenizer(), False), chars=(CharAnalyzer(), False)
        ),
        "jieba with positions": schema(text=(JiebaAnalyzer(), True)),
        "jieba only": schema(text=jieba),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.writer_layouts")
    parser.add_argument("--docs", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from whoosh.index import create_in

    from search.backend import field_postings, prepared

    from . import corpus
    from .indexing import jieba_alone

    texts = ["\n".join(d.paragraphs) for d in corpus.build(args.docs)]
    chars = sum(len(t) for t in texts)
    _tokens, jieba_s = jieba_alone(texts)
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
            docs = [{k: text for k in schema.names() if k != "id"} for text in texts]
            postings = {}
            for doc in docs:
                postings.update(field_postings(schema, doc))
            start = time.perf_counter()
            with prepared(postings):
                writer = ix.writer(limitmb=256, compound=False)
                for i, doc in enumerate(docs):
                    writer.add_document(id=str(i), **doc)
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
