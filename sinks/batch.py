"""Accumulating rows per table until a batch is due: by row count or by age."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Batch:
    max_rows: int
    max_seconds: float
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    size: int = 0
    opened_at: float | None = None  # monotonic time of the first row

    def add(self, table: str, row: tuple[Any, ...], now: float) -> None:
        if self.opened_at is None:
            self.opened_at = now
        self.rows.setdefault(table, []).append(row)
        self.size += 1

    @property
    def room(self) -> int:
        return max(self.max_rows - self.size, 0)

    def due(self, now: float) -> bool:
        """Full, or holding rows older than max_seconds."""
        if self.size >= self.max_rows:
            return True
        return self.opened_at is not None and now - self.opened_at >= self.max_seconds

    def clear(self) -> None:
        self.rows = {}
        self.size = 0
        self.opened_at = None
