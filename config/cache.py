"""The file cache behind the throttle counters (CACHES["throttle"])."""

from django.core.cache.backends.filebased import FileBasedCache

CULL_EVERY = 100


class ThrottleCache(FileBasedCache):
    """Django's file cache lists its whole folder on every set, to cull it; counters are set on
    every rate-limited request, which made a search pay a listing of thousands of files. This
    one culls on one set in CULL_EVERY, and drops expired counters before live ones."""

    _sets = 0

    def _cull(self):
        ThrottleCache._sets += 1
        if ThrottleCache._sets % CULL_EVERY:
            return
        for name in self._list_cache_files():
            try:
                with open(name, "rb") as file:
                    self._is_expired(file)  # deletes the file when it has expired
            except FileNotFoundError:  # another worker removed it first
                pass
        super()._cull()
