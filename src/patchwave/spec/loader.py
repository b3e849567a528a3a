"""Parse campaign YAML and turn every problem into ``file:line:col: path: got X, expected Y``.

YAML is composed into nodes first (to keep each value's position), checked for duplicate keys
(PyYAML silently keeps the last one), then constructed with the safe constructor and validated.
Pydantic error locations are walked back through the node tree to find line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from patchwave.errors import CampaignSpecError, PatchwaveError
from patchwave.spec.types import RULE_ERROR, suggest

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]

MAX_PROBLEMS = 10
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"

_EXPECTED = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "timedelta_type": "expected a duration",
    "none_required": "expected nothing",
}


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CampaignSpecError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CampaignSpecError(f"{path}: is a directory, expected a campaign YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignSpecError(f"{path}: cannot read: {exc}") from exc


def validate_yaml_text(
    model: type[M], text: str, source: str, tag_models: Mapping[str, type[BaseModel]]
) -> M:
    """Validate YAML ``text`` against ``model``; raise CampaignSpecError naming ``source``."""
    root, data = _parse(text, source)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"{_show(data)}"
        raise CampaignSpecError(
            f"{source}:1:1: the top level is {kind}, expected a mapping of campaign fields "
            "(name, owner, scope, windows, rings, ...)"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CampaignSpecError(
            format_errors(exc, source=source, root=root, model=model, tag_models=tag_models)
        ) from exc
    except PatchwaveError as exc:
        # A nested model (e.g. a calendar) may raise its own user error; name the file too.
        raise CampaignSpecError(f"{source}: {exc}") from exc


def _parse(text: str, source: str) -> tuple[yaml.Node, Any]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise CampaignSpecError(
                f"{source}: the file is empty, expected a campaign mapping (name, owner, scope, "
                "windows, rings, ...)"
            )
        _check_duplicate_keys(root, source)
        return root, loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(filter(None, [exc.context, exc.problem])) or str(exc)
        raise CampaignSpecError(f"{where}: invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise CampaignSpecError(f"{source}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def _check_duplicate_keys(root: yaml.Node, source: str) -> None:
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases can share (or loop back to) a node
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[str, yaml.Node] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag not in (_STR, _MERGE):
                    # `on:` is a boolean and `1:` a number in YAML 1.1; fields are text.
                    kind = key.tag.rsplit(":", 1)[-1]
                    raise CampaignSpecError(
                        f"{source}:{_pos(key)}: key {key.value!r} is read as {kind}, expected "
                        f'text: quote it ("{key.value}")'
                    )
                if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:
                    if key.value in keys:
                        first = keys[key.value].start_mark.line + 1
                        raise CampaignSpecError(
                            f"{source}:{_pos(key)}: duplicate key {key.value!r} "
                            f"(first at line {first}); keep only one"
                        )
                    keys[key.value] = key
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _pos(node: yaml.Node) -> str:
    return f"{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def format_errors(
    exc: ValidationError,
    *,
    source: str,
    root: yaml.Node | None,
    model: type[BaseModel],
    tag_models: Mapping[str, type[BaseModel]],
) -> str:
    """One line per problem, sorted by position, at most MAX_PROBLEMS lines (+ a count)."""
    problems: list[tuple[int, int, str]] = []
    errors = exc.errors(include_url=False)
    nested = [tuple(e["loc"]) for e in errors]
    for err in errors:
        loc = tuple(err["loc"])
        # pydantic also calls a list "too short" when all its items failed: noise.
        if err["type"] == "too_short" and any(n[: len(loc)] == loc != n for n in nested):
            continue
        for loc, message in _problems(err, model, tag_models):
            clean = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("<")))
            node = _node_at(root, clean, key=err["type"] == "extra_forbidden")
            line, col = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (0, 0)
            where = f"{source}:{line}:{col}" if node else source
            path = _path(clean)
            text = f"{where}: {path}: {message}" if path else f"{where}: {message}"
            if text not in (p[2] for p in problems):
                problems.append((line, col, text))
    problems.sort(key=lambda p: (p[0], p[1]))
    lines = [p[2] for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"{source}: ... and {len(problems) - MAX_PROBLEMS} more problem(s)")
    return "\n".join(lines)


def _problems(
    err: ErrorDetails, model: type[BaseModel], tag_models: Mapping[str, type[BaseModel]]
) -> list[tuple[Loc, str]]:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == RULE_ERROR:
        first = ((*loc, *ctx.get("at", ())), err["msg"])
        return [first, *(((*loc, *sub), msg) for sub, msg in ctx.get("more", ()))]
    if kind == "missing":
        return [(loc, "missing; this field is required")]
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1], tag_models)
        name = str(loc[-1])
        hint = suggest(name, known) if known else ""
        listing = f" (known: {', '.join(known)})" if known and not hint else ""
        return [(loc, f"unknown field {name!r}{hint}{listing}")]
    key_error = bool(loc) and loc[-1] == "[key]"
    if key_error:
        loc = loc[:-1]
    expected = _expected(err)
    got = f"got {_show(err['input'])}"
    if key_error:
        got = f"got the name {_show(err['input'])}"
    # Messages that do not start with "expected" already say what was found.
    return [(loc, f"{got}, {expected}" if expected.startswith("expected") else expected)]


def _expected(err: ErrorDetails) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind in ("enum", "literal_error"):
        return f"expected one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "string_type" and isinstance(err["input"], int | float):
        # `start: 22:00` unquoted is a YAML 1.1 base-60 number (1320).
        return "expected text (put the value in quotes; unquoted 22:00 is read as a number)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<="}.get(
            kind, "<"
        )
        bound = next(iter(ctx.values()), "")
        return f"expected a number {op} {bound}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} item(s)"
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} item(s)"
    if kind == "string_too_long":
        return f"expected at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')}"
    return _EXPECTED.get(kind, err["msg"])


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _node_at(root: yaml.Node | None, loc: Loc, *, key: bool) -> yaml.Node | None:
    """The node at ``loc`` (its key node when ``key``), or the deepest ancestor found."""
    node = root
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            pair = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == part
                ),
                None,
            )
            if pair is None:
                return node
            node = pair[0] if key and last else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _fields_at(
    model: type[BaseModel], loc: Loc, tag_models: Mapping[str, type[BaseModel]]
) -> list[str]:
    """Field names of the model found at ``loc`` (for "did you mean"), or [] if unknown."""
    current: Any = model
    skip = 0
    for part in loc:
        if isinstance(part, str) and part in tag_models:
            current, skip = tag_models[part], 0
            continue
        if skip:
            skip -= 1
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current, skip = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> tuple[Any, int]:
    """The model inside ``X | None``, ``tuple[X, ...]``, ``dict[str, X]`` (+ items to skip)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, 0
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (tuple, list, dict):
        inner, skip = _inner_model(args[-1] if origin is dict else args[0])
        return inner, skip + 1
    for arg in args:
        inner, skip = _inner_model(arg)
        if inner is not None:
            return inner, skip
    return None, 0
