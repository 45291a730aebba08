"""Where haystack looks for an app's indexes: the speech document is in search.documents."""

from .documents import SpeechIndex

__all__ = ["SpeechIndex"]
