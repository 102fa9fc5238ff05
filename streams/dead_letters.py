"""Building the dead-letter record for a message that could not be processed."""

from __future__ import annotations

from datetime import datetime

from models.base import stable_id
from models.records import DeadLetter, DeadLetterReason


def dead_letter(topic: str, partition: int, offset: int, raw: bytes | None,
                reason: DeadLetterReason, detail: str, now: datetime) -> DeadLetter:
    # The id is the message's position, so a reprocessed message is stored once.
    return DeadLetter(
        dead_letter_id=stable_id("deadletter", topic, partition, offset),
        source_topic=topic,
        partition=partition,
        offset=offset,
        reason=reason,
        detail=detail[:2000],
        raw=raw or b"",
        ts=now,
    )
