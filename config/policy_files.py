"""Loading YAML policy files into validated models, with errors that point at line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.reps import Roster

M = TypeVar("M", bound=BaseModel)


class PolicyError(ValueError):
    """A policy file that cannot be used; the running policy stays in place."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column, self.message = path, line, column, message


# Data through libyaml when PyYAML was built with it (a 200-rep roster loads ~10x faster); node
# trees through the Python loader, whose marks point into the text (rule positions need that).
_DATA_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str, path: str = "<text>") -> tuple[yaml.Node | None, Any]:
    """The YAML's node tree (for positions) and its data; PolicyError where it is not YAML."""
    return _yaml(yaml.compose, yaml.SafeLoader, text, path), _yaml(yaml.load, _DATA_LOADER, text, path)


def _yaml(read: Any, loader: Any, text: str, path: str) -> Any:
    try:
        return read(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PolicyError(path, line, column, f"not valid YAML: {exc.problem or exc}") from exc


def parse_policy(text: str, model: type[M], path: str = "<text>") -> M:
    """Validate YAML text against `model`; the first problem is raised as a PolicyError."""
    data = _yaml(yaml.load, _DATA_LOADER, text, path)
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        error = exc.errors()[0]
        node = _yaml(yaml.compose, yaml.SafeLoader, text, path)  # positions: only when there is an error
        line, column = yaml_position(node, error["loc"])
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise PolicyError(path, line, column, f"{where}: {error['msg']}") from exc


def load_policy(path: Path, model: type[M]) -> M:
    return parse_policy(path.read_text(encoding="utf-8"), model, str(path))


def load_roster(path: Path) -> Roster:
    return load_policy(path, Roster)


def yaml_node(node: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The deepest node along a pydantic error location (mapping keys, sequence indices)."""
    for part in loc:
        child = _child(node, part) if node is not None else None
        if child is None:
            break
        node = child
    return node


def yaml_position(root: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[int, int]:
    """1-based line and column of the deepest node along `loc` (1:1 without a tree)."""
    node = yaml_node(root, loc)
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
