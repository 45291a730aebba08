"""The search engine: no Django here. The Django side (search.service) resolves names, reads
records and presents outcomes; this package finds, scores, counts and cuts snippets."""
