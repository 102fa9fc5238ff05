"""Normal forms of personal identifiers, so formatting never splits or reveals a person."""

from __future__ import annotations

import re


def normalise(kind: str, value: str) -> str:
    """E-mail lower-cased, phone reduced to digits and '+', anything else trimmed."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return re.sub(r"[^\d+]", "", value)
    return value
