"""Near-duplicate detection on the Chinese text of two transcripts.

Two copies of one address differ in punctuation, spacing, full-width digits,
traditional characters and the odd sentence; they still share most runs of
five Chinese characters. A fingerprint is a sample of those runs (hashes
divisible by SAMPLE), which keeps it small while estimating the overlap well.
"""

import re
import zlib
from functools import lru_cache

CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
SHINGLE = 5
SAMPLE = 4
# Fingerprints smaller than this are too short to call anything a duplicate.
MIN_FINGERPRINT = 8
# Different years' reports share set phrases; copies of one address share far more.
NEAR_DUPLICATE = 0.5
# From here on a copy is taken to be the same address: staff must confirm a separate record.
SAME_ADDRESS = 0.95


@lru_cache(maxsize=1)
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def fingerprint(text):
    chars = "".join(CJK.findall(_to_simplified().convert(text)))
    # crc32, not hash(): str hashes change per process, and results should be repeatable.
    hashes = (zlib.crc32(chars[i : i + SHINGLE].encode()) for i in range(len(chars) - SHINGLE + 1))
    return frozenset(h for h in hashes if h % SAMPLE == 0)


def similarity(a, b):
    """Share of the smaller fingerprint found in the other: 1.0 when one text contains the other."""
    smaller = min(len(a), len(b))
    if smaller < MIN_FINGERPRINT:
        return 0.0
    return len(a & b) / smaller
