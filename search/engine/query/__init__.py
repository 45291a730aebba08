"""Queries: what a reader typed (syntax) → a tree of nodes (plan), built by build_plan."""

from .build import build_plan, exact
from .plan import Plan
from .syntax import MAX_QUERY_CHARS, ParsedQuery, parse

__all__ = ["MAX_QUERY_CHARS", "ParsedQuery", "Plan", "build_plan", "exact", "parse"]
