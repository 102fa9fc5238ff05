"""Loading YAML policy files into validated models, with errors that point at line and column."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.reps import Roster

M = TypeVar("M", bound=BaseModel)


class PolicyError(ValueError):
    """A policy file that cannot be used; the running policy stays in place."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column, self.message = path, line, column, message


def parse_policy(text: str, model: type[M], path: str = "<text>") -> M:
    """Validate YAML text against `model`; the first problem is raised as a PolicyError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PolicyError(path, line, column, f"not valid YAML: {exc.problem or exc}") from exc
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        error = exc.errors()[0]
        line, column = _position(node, error["loc"])
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise PolicyError(path, line, column, f"{where}: {error['msg']}") from exc


def load_policy(path: Path, model: type[M]) -> M:
    return parse_policy(path.read_text(encoding="utf-8"), model, str(path))


def load_roster(path: Path) -> Roster:
    return load_policy(path, Roster)


def _position(node: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[int, int]:
    """Walk the YAML node tree along a pydantic error location; the deepest node found wins."""
    if node is None:
        return 1, 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return node.start_mark.line + 1, node.start_mark.column + 1


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
