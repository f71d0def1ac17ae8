"""Every config key with its type, default and meaning, as Markdown, from the settings
models themselves: ``python -m spikecut.settings.reference > docs/config.md``."""

from __future__ import annotations

import json
import sys
import types
import typing

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from spikecut.cutoff.policies import POLICIES
from spikecut.data.registry import DATASETS
from spikecut.regularisers import REGULARISERS
from spikecut.settings.blocks import DatasetEntry, Variant
from spikecut.settings.models import ARCHITECTURES
from spikecut.settings.workflow import Settings


def _type(annotation) -> str:
    """A short, readable name for a field's type."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        base = args[0]
        return (
            "number (string)"
            if base is str and any("_number" in repr(a) for a in args[1:])
            else _type(base)
        )
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _type(a) for a in args)
    if origin is tuple:
        return f"list of {_type(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping to {_type(args[1])}" if args else "mapping"
    if isinstance(annotation, type):
        return {
            "str": "string",
            "int": "integer",
            "float": "number",
            "bool": "boolean",
            "Any": "any",
        }.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def _at_least(n: int, one: str, many: str) -> str:
    return f"at least {n} {one if n == 1 else many}"


_BOUNDS = {
    "min_length": lambda n: _at_least(n, "entry", "entries"),
    "gt": lambda v: f"> {v}",
    "ge": lambda v: f"≥ {v}",
    "lt": lambda v: f"< {v}",
    "le": lambda v: f"≤ {v}",
}


def _constraints(annotation) -> list:
    """The constraint objects inside a type: ``PositiveInt`` carries ``Gt(0)``, also as
    part of ``PositiveInt | None`` or ``tuple[PositiveInt, ...]``."""
    found = list(getattr(annotation, "__metadata__", ()))
    for arg in typing.get_args(annotation):
        found += _constraints(arg)
    return found


def _bounds(field: FieldInfo) -> str:
    """The range a field's value must lie in, e.g. " (≥ 1, ≤ 64)"; "" where it has none."""
    bounds = _BOUNDS
    if field.annotation is str:  # a string's length counts characters
        bounds = bounds | {"min_length": lambda n: _at_least(n, "character", "characters")}
    limits = [
        show(getattr(m, attr))
        for m in [*field.metadata, *_constraints(field.annotation)]
        for attr, show in bounds.items()
        if getattr(m, attr, None) is not None
    ]
    return f" ({', '.join(dict.fromkeys(limits))})" if limits else ""


def _default(field: FieldInfo, given=PydanticUndefined) -> str:
    """The default (``given`` where the enclosing block's default sets it) as it would
    be written in the YAML config (JSON is YAML)."""
    value = field.default if given is PydanticUndefined else given
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        return "(block below)"
    return f"`{json.dumps(to_jsonable_python(value))}`"


def _anchor(name: str) -> str:
    """GitHub's anchor of the heading ``### `name` ``."""
    return "".join(c for c in name.lower().replace(" ", "-") if c.isalnum() or c in "-_")


def _block(
    name: str, model: type[BaseModel], doc: str | None = None, default: BaseModel | None = None
) -> list[str]:
    """The table of ``model``'s keys, then one per nested block. ``default`` is the
    block's default where its enclosing block sets one that differs from the class's
    (``resources.prepare`` has its own runtime)."""
    lines = [f"### `{name}`" if name else "### top level", ""]
    if doc or model.__doc__:
        lines += [" ".join((doc or model.__doc__).split()), ""]
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    nested = []
    for key, field in model.model_fields.items():
        given = PydanticUndefined if default is None else getattr(default, key)
        meaning = field.description or ""
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            child = f"{name}.{key}" if name else key
            nested.append((child, kind, field.default if given is PydanticUndefined else given))
            meaning = meaning or f"see [`{child}`](#{_anchor(child)})"
        # a Field(...) keeps NumberString's validator in its metadata, not its annotation
        number = any("_number" in repr(m) for m in field.metadata)
        kind_name = ("number (string)" if number else _type(field.annotation)) + _bounds(field)
        lines.append(f"| `{key}` | {kind_name} | {_default(field, given)} | {meaning} |")
    lines.append("")
    for child, kind, value in nested:
        lines += _block(child, kind, default=value)
    return lines


def _options(model: type[BaseModel]) -> str:
    """An options model's keys in one line, with their defaults and meaning."""
    return (
        ", ".join(
            f"`{k}` (default `{json.dumps(to_jsonable_python(f.default))}`"
            + (f": {f.description})" if f.description else ")")
            for k, f in model.model_fields.items()
        )
        or "none"
    )


def markdown() -> str:
    lines = [
        "# Configuration reference",
        "",
        "<!-- generated by `python -m spikecut.settings.reference`; do not edit -->",
        "",
        "Every key of a workflow config, with its default. A `--configfile` replaces "
        "`config/config.yaml`; keys left out take these defaults. Unknown keys, bad "
        "values and settings that do not fit together stop the workflow before any "
        "job, with the key's path.",
        "",
    ]
    lines += _block("", Settings, "Blocks of settings are described below.")
    lines += _block("datasets.<name>", DatasetEntry, "Each data set to run.")
    lines += _block("variants.<name>", Variant)
    lines += ["## Data set options (`datasets.<name>.options`)", ""]
    lines += [f"- `{name}`: {_options(spec.options)}" for name, spec in DATASETS.items()]
    lines += ["", "## Regulariser settings (`regularisers.<name>`)", ""]
    lines += [
        f"- `{name}` ({record.label}; forms: {', '.join(record.forms)}): "
        f"{_options(record.settings)}"
        for name, record in REGULARISERS.items()
    ]
    lines += ["", "## Policy options (`cutoff.options.<policy>`)", ""]
    lines += [
        f"- `{name}` ({record.label}): {_options(record.options)}"
        for name, record in POLICIES.items()
    ]
    lines += [
        "",
        "## Models (`model`, `datasets.<name>.model`, `variants.<name>.model`)",
        "",
        "A model block names an architecture and sets its options; an override that "
        "names another architecture starts from that architecture's defaults.",
        "",
    ]
    for name, cls in ARCHITECTURES.items():
        lines += _block(f"model: {name}", cls)
    return "\n".join(lines).replace("||", "| |").rstrip() + "\n"


def json_schema() -> str:
    """The settings as a JSON schema (``config/schema.json``), for tools that show or
    check a workflow's parameters without Python, such as the Snakemake workflow
    catalogue. The settings models stay the checks that the workflow runs."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    schema |= Settings.model_json_schema()
    schema["description"] = (
        "spikecut's configuration; docs/config.md describes every key, config/README.md every file"
    )
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(json_schema() if sys.argv[1:] == ["--schema"] else markdown(), end="")
