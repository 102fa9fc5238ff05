"""Phone numbers and e-mail addresses as ClickHouse stores them: a keyed hash (HMAC-SHA256)
unless clear text is allowed. The same person gets the same hash, so analysts can still count
and join on it; without the key nobody can test guesses against it."""

from __future__ import annotations

import hashlib
import hmac

from models.identifiers import normalise

PREFIX = "hmac:"


class PersonalData:
    def __init__(self, key: bytes | None) -> None:
        """`key` None stores clear text (only where a setting allows it)."""
        self._key = key

    def protect(self, kind: str, value: str | None) -> str:
        if not value:
            return ""
        value = normalise(kind, value)
        if self._key is None:
            return value
        return PREFIX + hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
