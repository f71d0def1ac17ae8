"""Config checking with messages that name the offending key."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """A config value the schema rejects."""


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def check_config(config: dict, schema_path: str | Path) -> None:
    """Raise :class:`ConfigError` naming every bad key and what it allows.

    Snakemake's own ``validate`` fills in defaults afterwards; this gives the message.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    lines = []
    for err in errors:
        detail = err.message
        if err.validator == "enum":
            detail = f"{err.instance!r} is not allowed; choose one of {err.validator_value}"
        elif err.validator == "additionalProperties":
            allowed = sorted(err.schema.get("properties", {}))
            detail = f"{err.message}; allowed keys: {allowed}"
        elif err.validator == "propertyNames":
            allowed = err.schema["propertyNames"].get("enum")
            detail = f"{err.instance!r} is not allowed; choose one of {allowed}"
        lines.append(f"config key {_key(err.absolute_path)}: {detail}")
    raise ConfigError(
        "invalid configuration (see config/schema.yaml):\n  " + "\n  ".join(lines)
    )
