"""The benchmark corpus: the 68 addresses plus PRC laws, split at chapters to reach N documents."""

import csv
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(os.environ.get("ARCHIVE_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))

_CHAPTER = re.compile(r"^\s*(?:#+\s*)?第[一二三四五六七八九十百零〇\d]+章.*$", re.M)
_BLANK_LINES = re.compile(r"\n\s*\n")
_MD_HEADING = re.compile(r"^#+\s*")


@dataclass
class Doc:
    key: str
    title: str
    text: str
    speaker: str = ""
    date: str = ""  # ISO yyyy-mm-dd, or empty
    occasion: str = ""
    category: str = ""
    is_address: bool = False
    paragraphs: list = field(default_factory=list)

    def __post_init__(self):
        if not self.paragraphs:
            self.paragraphs = [
                _MD_HEADING.sub("", p.strip()) for p in _BLANK_LINES.split(self.text) if p.strip()
            ]

    @property
    def chars(self):
        return sum(len(p) for p in self.paragraphs)


def _read_tsv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def addresses(corpus_dir=CORPUS_DIR):
    rows = _read_tsv(corpus_dir / "speeches" / "index.tsv")
    return [
        Doc(
            key=f"speeches/{r['file']}",
            title=r["title"],
            text=(corpus_dir / "speeches" / r["file"]).read_text("utf-8"),
            speaker=r["speaker"],
            date=r["date"],
            occasion=r["occasion"],
            category="讲话",
            is_address=True,
        )
        for r in rows
    ]


def _laws(corpus_dir):
    out = []
    for r in _read_tsv(corpus_dir / "bulk" / "laws_index.tsv"):
        path = corpus_dir / "bulk" / r["file"]
        if path.exists():
            out.append((r, path.read_text("utf-8")))
    return out


def _law_doc(row, text, key_suffix="", title_suffix=""):
    return Doc(
        key=row["file"] + key_suffix,
        title=row["title"] + title_suffix,
        text=text,
        date=row["version_date"],
        category=row["category"].split("/")[0],
    )


def _chapters(row, text):
    """The law cut at its 第…章 headings; the preamble stays with the first chapter."""
    starts = [m.start() for m in _CHAPTER.finditer(text)]
    if len(starts) < 2:
        return [_law_doc(row, text)]
    starts[0] = 0
    bounds = list(zip(starts, starts[1:] + [len(text)], strict=True))
    pieces = []
    for i, (a, b) in enumerate(bounds, start=1):
        head = _CHAPTER.search(text, a if i > 1 else starts[0])
        label = head.group().strip().lstrip("#").split()[0] if head else f"{i}"
        pieces.append(_law_doc(row, text[a:b], f"#ch{i}", f"·{label}"))
    return [p for p in pieces if p.paragraphs]


def build(n, corpus_dir=CORPUS_DIR, seed=20241120):
    """N documents, deterministic for a given N.

    Below 68 + 3,475 documents, addresses and laws are sampled in proportion; above it, the
    largest laws are split at chapters, one law at a time, until there are N documents (or no
    more chapters to split).
    """
    rng = random.Random(seed)
    speeches = addresses(corpus_dir)
    laws = _laws(corpus_dir)
    whole = len(speeches) + len(laws)
    if n <= whole:
        k = min(len(speeches), max(1, round(n * len(speeches) / whole)))
        picked_s = speeches[:: max(1, len(speeches) // k)][:k]
        picked_l = rng.sample(laws, n - k)
        return picked_s + [_law_doc(r, t) for r, t in picked_l]
    docs = list(speeches)
    need = n - whole
    order = sorted(laws, key=lambda rt: -len(rt[1]))
    for row, text in order:
        pieces = _chapters(row, text) if need > 0 else [_law_doc(row, text)]
        if len(pieces) - 1 > need:
            pieces = _merge_tail(row, text, pieces, need + 1)
        need -= len(pieces) - 1
        docs.extend(pieces)
    return docs


def _merge_tail(row, text, pieces, keep):
    """Keep the first keep-1 chapters apart and the rest as one document, to hit N exactly."""
    head = pieces[: keep - 1]
    done = sum(len(p.text) for p in head)
    rest = _law_doc(row, text[done:], f"#ch{keep}-", f"·第{keep}章起")
    return head + [rest]


def write_files(docs, folder):
    """One UTF-8 .txt per document, for the import service; returns [(doc, path)]."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, doc in enumerate(docs, start=1):
        path = folder / f"{i:05d}.txt"
        path.write_text("\n\n".join(doc.paragraphs) + "\n", encoding="utf-8")
        out.append((doc, path))
    return out
