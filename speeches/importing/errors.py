class TranscriptImportError(ValueError):
    """A transcript that cannot become a record; the message is shown to staff as is."""
