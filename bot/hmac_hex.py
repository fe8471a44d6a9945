"""HMAC-SHA256 of request bytes as hex, with the GIL held throughout.

hashlib lets go of the GIL to hash 2,048 bytes or more in one call (CPython's
``HASHLIB_GIL_MINSIZE``), and from then on for every later call on the same object; the
one-shot ``hmac.digest`` lets go of it for any input. Hashing a request takes microseconds;
getting the GIL back from the store's busy thread can take a whole switch interval (5 ms),
for every request. So the bytes are fed in pieces below that size.
"""

from __future__ import annotations

import hashlib
import hmac

_GIL_KEPT_BELOW = 2048


def hmac_sha256_hex(secret: bytes, *parts: bytes) -> str:
    """The hex HMAC-SHA256 of ``parts`` joined, without joining them (a body of up to the
    size limit is not copied)."""
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for part in parts:
        view = memoryview(part)
        for start in range(0, len(view), _GIL_KEPT_BELOW - 1):
            mac.update(view[start : start + _GIL_KEPT_BELOW - 1])
    return mac.hexdigest()
