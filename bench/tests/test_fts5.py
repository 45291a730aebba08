"""The baseline answers the query our parser reads, so the two engines are compared fairly."""

import pytest

from bench.fts5 import Fts5
from bench.tokens import cut, fold, tokenizer

DOCS = {
    1: ("经济发展是第一要务。", "2020"),
    2: ("发展经济，坚持改革。", "2021"),
    3: ("经济和改革。", "2022"),
    4: ("高质量发展。", "2024"),
}


@pytest.fixture
def fts(tmp_path):
    engine = Fts5(tmp_path / "fts5.sqlite3")
    tok = tokenizer()
    engine.insert((rowid, cut(tok, fold(text)), year) for rowid, (text, year) in DOCS.items())
    yield engine
    engine.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("經濟發展", {1}),  # unquoted: the run as it stands (the exact reading), as ours
        ('"经济发展"', {1}),  # quoted: the exact run
        ("经济 改革", {2, 3}),
        ("经济 -改革", {1}),
        ("改革 OR 高质量", {2, 3, 4}),
        ("经济 year:2021-2022", {2, 3}),
        ("龘靐", set()),
    ],
)
def test_fts5_answers_our_parsers_reading_of_the_query(fts, query, expected):
    assert set(fts.search(query)) == expected
    assert fts.count(query) == len(expected)
    assert all(fts.contains(query, rowid) == (rowid in expected) for rowid in DOCS)
