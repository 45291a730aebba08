"""The baseline: SQLite FTS5 (unicode61) over the same jieba tokens, top 20 by bm25."""

import sqlite3
import time
from pathlib import Path

from . import tokens


class Fts5:
    def __init__(self, path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(body, year UNINDEXED, tokenize='unicode61')"
        )

    def insert(self, rows):
        """rows: (rowid, tokens, year); the whole corpus in one transaction."""
        start = time.perf_counter()
        with self.db:
            self.db.executemany(
                "INSERT INTO docs(rowid, body, year) VALUES (?, ?, ?)",
                ((rowid, " ".join(toks), year) for rowid, toks, year in rows),
            )
        self.db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        self.db.commit()
        return time.perf_counter() - start

    def size_bytes(self):
        return self.path.stat().st_size

    def match_expr(self, query):
        """Our parser's reading of the query, as FTS5: the same pieces, ANDed, ORed and
        excluded as ours are, each piece a phrase of its jieba tokens; (expression, years)."""
        from search.engine.query import parse

        parsed = parse(query)
        tok = tokens.tokenizer()

        def phrase(piece):
            toks = tokens.cut(tok, piece)
            return '"' + " ".join(t.replace('"', '""') for t in toks) + '"' if toks else None

        def term(t):
            parts = [p for p in map(phrase, t.pieces) if p]
            return "(" + " AND ".join(parts) + ")" if parts else None

        groups = []
        for group in parsed.groups:
            alternatives = [a for a in map(term, group) if a]
            if alternatives:
                groups.append("(" + " OR ".join(alternatives) + ")")
        expr = " AND ".join(groups)
        excluded = [e for e in map(term, parsed.excluded) if e]
        if expr and excluded:
            expr += " NOT (" + " OR ".join(excluded) + ")"
        return (expr or None), parsed.years

    def _where(self, query):
        """(WHERE clause, its arguments) for the query, or None if it can match nothing."""
        expr, years = self.match_expr(query)
        if expr is None:
            return None
        where, args = "docs MATCH ?", [expr]
        if years:
            where += " AND year BETWEEN ? AND ?"
            args += [f"{years[0]:04d}", f"{years[1]:04d}"]
        return where, args

    def search(self, query, limit=20):
        found = self._where(query)
        if found is None:
            return []
        where, args = found
        sql = f"SELECT rowid FROM docs WHERE {where} ORDER BY rank LIMIT ?"
        return [r[0] for r in self.db.execute(sql, [*args, limit])]

    def count(self, query):
        found = self._where(query)
        if found is None:
            return 0
        where, args = found
        return self.db.execute(f"SELECT count(*) FROM docs WHERE {where}", args).fetchone()[0]

    def contains(self, query, rowid):
        found = self._where(query)
        if found is None:
            return False
        where, args = found
        sql = f"SELECT 1 FROM docs WHERE {where} AND rowid = ?"
        return self.db.execute(sql, [*args, rowid]).fetchone() is not None

    def close(self):
        self.db.close()
