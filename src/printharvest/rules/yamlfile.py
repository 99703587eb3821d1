"""YAML files validated by pydantic, with errors that name the file, the key and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from printharvest.exceptions import ConfigError

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
Location = tuple[str | int, ...]


def read_yaml(path: Path) -> tuple[Any, dict[Location, int]]:
    """Parse ``path`` safely; return the data and a map from key path to 1-based line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # At the end of the file the parser's mark is one past the last line.
        last = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        where = f":{min(mark.line + 1, last)}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from exc
    lines: dict[Location, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, loc: Location, lines: dict[Location, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (key_node.value,)
            lines[loc + key] = key_node.start_mark.line + 1
            _walk(value_node, loc + key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), lines)


def line_of(lines: dict[Location, int], loc: Location) -> int | None:
    """The line of the longest known prefix of ``loc``."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def validate_yaml(model: type[ModelT], path: Path, *, empty: Any = None) -> ModelT:
    """Read ``path`` and validate it as ``model``; a ConfigError names file, key and line."""
    data, lines = read_yaml(path)
    if data is None:
        data = {} if empty is None else empty
    return validate_data(model, data, path, lines)


def validate_data(
    model: type[ModelT], data: Any, path: Path, lines: dict[Location, int]
) -> ModelT:
    """Validate already-parsed YAML data, translating pydantic errors into a ConfigError."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        # An unknown key first: a typo ("patern:") also makes its real key "missing", and
        # the typo is the line the lab has to fix.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        loc = tuple(first["loc"])
        line = line_of(lines, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        key += _rule_name(data, loc)
        where = f"{path}:{line}" if line else str(path)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {key}: {first['msg']}{more}") from exc


def _rule_name(data: Any, loc: Location) -> str:
    """`` (rule NAME)`` when the error sits inside a list item that has a ``name``."""
    found = ""
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict) and isinstance(node.get("name"), str):
            found = f" (rule {node['name']})"
    return found
