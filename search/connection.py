"""The haystack connection the archive searches and writes through, and whether its engine is
the archive's own (search.backend) or another haystack engine (search.other_engines)."""

from haystack import connections

from speeches.models import Speech


def backend():
    return connections["default"].get_backend()


def speech_index():
    return connections["default"].get_unified_index().get_index(Speech)


def own_engine(engine):
    """Whether this backend is the archive's own, whose index files the engine package reads."""
    return getattr(engine, "own_engine", False)
