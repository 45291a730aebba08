"""The baseline: SQLite FTS5 (unicode61) over the same jieba tokens, top 20 by bm25."""

import re
import sqlite3
import time
from pathlib import Path

from . import tokens

_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」')
_FIELD = re.compile(r"^(\w+):(\S+)$")


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
        """Our query syntax, roughly, as FTS5: words and "phrases" become token phrases, ANDed."""
        tok = tokens.tokenizer()
        parts, year = [], None

        def phrase(text):
            toks = tokens.cut(tok, tokens.fold(text))
            return '"' + " ".join(t.replace('"', '""') for t in toks) + '"' if toks else None

        for m in _QUOTED.finditer(query):
            parts.append(phrase(next(g for g in m.groups() if g is not None)))
        rest = _QUOTED.sub(" ", query)
        for word in rest.split():
            field = _FIELD.match(word)
            if field and field.group(1) == "year":
                year = field.group(2)
                continue
            parts.append(phrase(word))
        parts = [p for p in parts if p]
        return (" AND ".join(parts) if parts else None), year

    def search(self, query, limit=20):
        expr, year = self.match_expr(query)
        if expr is None:
            return []
        sql = "SELECT rowid FROM docs WHERE docs MATCH ?"
        args = [expr]
        if year:
            sql += " AND year = ?"
            args.append(year)
        sql += " ORDER BY rank LIMIT ?"
        args.append(limit)
        return [r[0] for r in self.db.execute(sql, args)]

    def contains(self, query, rowid):
        expr, _year = self.match_expr(query)
        if expr is None:
            return False
        sql = "SELECT 1 FROM docs WHERE docs MATCH ? AND rowid = ?"
        return self.db.execute(sql, (expr, rowid)).fetchone() is not None

    def close(self):
        self.db.close()
