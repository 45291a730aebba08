class TranscriptImportError(ValueError):
    """A transcript that cannot become a record; the message is shown to staff as is."""


class NearDuplicateError(TranscriptImportError):
    """The text is (nearly) that of an address already kept, and nobody confirmed a new record."""
