"""Identity stitching: the identifiers of a person (cookie, phone, e-mail, messaging id)
resolve to one lead id through an alias table, so a web visit and a call from the same
person build one profile.

The alias table maps hashed identifiers to lead ids; the worker keeps it in a Faust
GlobalTable (every worker sees every alias). No raw identifier is stored in it.
"""

from __future__ import annotations

import functools
from typing import Mapping

from models.base import stable_id
from models.events import InboundEvent
from models.identifiers import normalise

# Strongest first: an e-mail or phone number is a person, a cookie only a browser.
_PRECEDENCE = ("email", "phone", "messaging", "cookie")


def alias_keys(event: InboundEvent) -> list[tuple[str, str]]:
    """(kind, alias key) of each identifier on the event, strongest first."""
    ids = event.identities()
    if not ids:  # a region event
        return []
    return [(kind, _alias_key(kind, ids[kind])) for kind in _PRECEDENCE if kind in ids]


@functools.lru_cache(maxsize=65_536)  # people come back: most events repeat a known identifier
def _alias_key(kind: str, identifier: str) -> str:
    return stable_id("alias", kind, normalise(kind, identifier))


def resolve_lead(event: InboundEvent, aliases: Mapping[str, str]) -> tuple[str | None, dict[str, str]]:
    """The lead an event belongs to, and the aliases it teaches (identifier -> lead).

    A known identifier decides, strongest first; an event with only new identifiers
    starts a lead named after its strongest one. Region events (POS rows, signals)
    belong to no lead.
    """
    keys = alias_keys(event)
    if not keys:
        return None, {}
    known = [aliases[key] for _kind, key in keys if key in aliases]
    lead_id = known[0] if known else stable_id("lead", keys[0][1])
    if len(known) == len(keys):  # the usual returning visitor: nothing new to learn
        return lead_id, {}
    return lead_id, {key: lead_id for _kind, key in keys if key not in aliases}
