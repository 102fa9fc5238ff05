"""Resolving the identifiers of a person to one lead id.

The [routing] issue adds stitching through an alias table; for now the strongest
identifier present decides, normalised so that formatting does not split a lead.
"""

from __future__ import annotations

import re

from models.base import stable_id
from models.events import InboundEvent

# Strongest first: an e-mail or phone number is a person, a cookie only a browser.
_PRECEDENCE = ("email", "phone", "messaging", "cookie")


def normalise(kind: str, value: str) -> str:
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return re.sub(r"[^\d+]", "", value)
    return value


def lead_id_of(event: InboundEvent) -> str | None:
    """The lead an event belongs to, or None for region events (POS rows, signals)."""
    ids = event.identities()
    for kind in _PRECEDENCE:
        if kind in ids:
            return stable_id("lead", kind, normalise(kind, ids[kind]))
    return None
