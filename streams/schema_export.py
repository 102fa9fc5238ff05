"""JSON Schema of every public topic's contract (`leadflow schema export DIR`)."""

from __future__ import annotations

import json
from pathlib import Path

from models.catalog import TOPICS
from models.events import InboundEvent


def export_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for topic in TOPICS:
        if not topic.public:
            continue
        # Producers write inbound events (what validation accepts); we write the rest.
        mode = "validation" if issubclass(topic.model, InboundEvent) else "serialization"
        schema = topic.model.model_json_schema(mode=mode)
        schema["$id"] = f"leadflow:{topic.name}"
        schema["title"] = f"{topic.name} ({topic.model.__name__})"
        path = directory / f"{topic.name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
