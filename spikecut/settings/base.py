"""What every settings model shares: unknown keys are errors, values are immutable, and
a failed validation becomes one message per bad key, named by its path in the config."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError


class ConfigError(ValueError):
    """Config values that are not accepted: one line per problem, each naming the key
    path that holds it."""

    def __init__(self, lines: list[str]):
        self.lines = list(lines)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.lines))


class Strict(BaseModel):
    """A settings block: frozen, and an unknown key is an error that lists the allowed
    ones."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = sorted(cls.model_fields)
            unknown = sorted(str(k) for k in data if k not in cls.model_fields)
            if unknown:
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key (a typo?); allowed keys: {allowed}",
                    {"keys": unknown, "allowed": allowed},
                )
        return data


def _path(loc: tuple) -> str:
    # a discriminated union puts its tag (the model's name) into the location
    return ".".join(str(p) for p in loc if str(p) not in _TAGS)


_TAGS: set[str] = set()  # discriminator values, filled in by the unions that use them


Locate = Callable[[str], tuple]


# pydantic's error kinds, in our words: what the value must be
_WORDS = {
    "greater_than": lambda c: f"must be more than {c['gt']}",
    "greater_than_equal": lambda c: f"must be at least {c['ge']}",
    "less_than": lambda c: f"must be less than {c['lt']}",
    "less_than_equal": lambda c: f"must be at most {c['le']}",
    "literal_error": lambda c: f"must be one of {c['expected']}",
    "too_short": lambda c: (
        "must not be empty" if c["min_length"] == 1 else f"must list at least {c['min_length']}"
    ),
    "too_long": lambda c: f"must list at most {c['max_length']}",
    "string_pattern_mismatch": lambda c: f"must match {c['pattern']}",
    "string_too_short": lambda c: "must not be empty",
    "missing": lambda c: "is required",
    "int_type": lambda c: "must be a whole number",
    "int_parsing": lambda c: "must be a whole number",
    "int_from_float": lambda c: "must be a whole number",
    "float_type": lambda c: "must be a number",
    "float_parsing": lambda c: "must be a number",
    "bool_type": lambda c: "must be true or false",
    "bool_parsing": lambda c: "must be true or false",
    "string_type": lambda c: "must be text",
    "list_type": lambda c: "must be a list",
    "tuple_type": lambda c: "must be a list",
    "dict_type": lambda c: "must be a mapping of keys to values",
    "model_type": lambda c: "must be a mapping of keys to values",
    "model_attributes_type": lambda c: "must be a mapping of keys to values",
}


def error_message(error: dict, given: bool = True) -> str:
    """What is wrong with one value, in our words where pydantic's would reach a user
    ("Input should be a valid tuple"); with ``given``, the value given where it is
    short."""
    words = _WORDS.get(error["type"])
    if words is None:
        return error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {value!r})" if given and not isinstance(value, dict | list) else ""
    return words(error.get("ctx", {})) + shown


def _located(err: ValidationError) -> list[tuple[tuple, str]]:
    """(key path as a tuple, what is wrong) per bad key."""
    found = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if str(p) not in _TAGS)
        message = error_message(e)
        keys = e.get("ctx", {}).get("keys") if e["type"] == "unknown_key" else None
        found += [(loc + ((key,) if key else ()), message) for key in keys or [None]]
    return found


def error_lines(err: ValidationError) -> list[tuple[str, str]]:
    """(key path, what is wrong) per bad key of a block validated on its own."""
    return [(_path(where), message) for where, message in _located(err)]


def format_errors(err: ValidationError, prefix: tuple | Locate = ()) -> list[str]:
    """One line per bad key: ``config key a.b.c: what is wrong``. ``prefix`` is where the
    validated block sits in the config, or, for a block merged from several places, a
    function from the block's top-level key to where that key was written."""
    lines = []
    for where, message in _located(err):
        head = prefix(str(where[0]) if where else "") if callable(prefix) else prefix
        lines.append(f"config key {_path(head + where) or '(top level)'}: {message}")
    return lines


def validate(model: type[BaseModel] | TypeAdapter, data: Any, prefix: tuple | Locate = ()) -> Any:
    """``model`` validated from ``data``, or a :class:`ConfigError` naming every bad key."""
    check = model.validate_python if isinstance(model, TypeAdapter) else model.model_validate
    try:
        return check(data)
    except ValidationError as err:
        raise ConfigError(format_errors(err, prefix)) from None


def _number(value: Any) -> str:
    """A float-valued knob as a canonical decimal string: "0.050", 0.05 and "5e-2" all
    become "0.05", so that equal numbers name the same result folder."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{value!r} must be a finite number >= 0")
    if number == 0:  # "-0" and "0.0" too
        return "0"
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# A non-negative number kept as the string that names it, e.g. an alpha or an epsilon.
NumberString = Annotated[str, BeforeValidator(_number)]


def unique(values, what: str):
    """``values``, refused if any repeats."""
    seen, repeated = set(), []
    for v in values:
        if v in seen and v not in repeated:
            repeated.append(v)
        seen.add(v)
    if repeated:
        raise ValueError(f"{what} {repeated} appear more than once; list each once")
    return values
