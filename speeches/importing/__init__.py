"""Turning uploaded transcripts into structured speech records (issue 3)."""
