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
        from search.query import parse

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

    def search(self, query, limit=20):
        expr, years = self.match_expr(query)
        if expr is None:
            return []
        sql = "SELECT rowid FROM docs WHERE docs MATCH ?"
        args = [expr]
        if years:
            sql += " AND year BETWEEN ? AND ?"
            args += [f"{years[0]:04d}", f"{years[1]:04d}"]
        sql += " ORDER BY rank LIMIT ?"
        args.append(limit)
        return [r[0] for r in self.db.execute(sql, args)]

    def contains(self, query, rowid):
        expr, _years = self.match_expr(query)
        if expr is None:
            return False
        sql = "SELECT 1 FROM docs WHERE docs MATCH ? AND rowid = ?"
        return self.db.execute(sql, (expr, rowid)).fetchone() is not None

    def close(self):
        self.db.close()
