"""Valid inbound payloads for tests, one per source, overridable field by field."""

from __future__ import annotations

import json
from typing import Any

TS = "2026-11-27T09:30:00+08:00"


def web(**fields: Any) -> dict[str, Any]:
    return {"kind": "content_download", "visitor_id": "cookie-1", "url": "https://example.test/hv-connector.pdf",
            "content_id": "wp-hv-connector", "dwell_seconds": 212.5, "ts": TS, **fields}


def call(**fields: Any) -> dict[str, Any]:
    return {"call_id": "call-1", "phone": "+86 138-0000-0001", "line": "sales", "agent": "a1",
            "language": "zh", "text": "我们想要一个报价，预算已经批了", "duration_seconds": 320, "ts": TS, **fields}


def pos(**fields: Any) -> dict[str, Any]:
    return {"store": "bj-01", "region": "North", "sku": "HV-200", "quantity": 3, "amount": 1299.5, "ts": TS, **fields}


def signal(**fields: Any) -> dict[str, Any]:
    return {"kind": "competitor_promo", "region": "East", "value": 0.35, "ts": TS, **fields}


PAYLOADS = {"web": web, "call": call, "pos": pos, "signal": signal}


def encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
