"""Shadows haystack's rebuild_index (when search precedes haystack in INSTALLED_APPS).

haystack's version clears the index and then writes batch by batch, so an indexer running
meanwhile can have a delete overwritten by an older batch. Ours writes everything in one
commit under the writer lock, with a progress bar.
"""

from .rebuild_search_index import Command as RebuildCommand


class Command(RebuildCommand):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Accepted for compatibility with haystack's command; there is nothing to confirm.
        parser.add_argument(
            "--noinput", "--no-input", action="store_true", help="兼容选项，无需确认"
        )
