"""Config dataclass fields as options: one definition feeds CLI flags, recipe YAML keys and the Python API.

:func:`field_specs` describes the fields of a :class:`~.step.StepConfig` subclass; :func:`coerce` turns a
CLI string or a YAML value into the field's type; :func:`build_config` builds a config from a mapping of
flag names (``max-turns``, ``max_turns`` or ``--max-turns``) to values.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from ..errors import ForgeError


@dataclass
class FieldSpec:
    """One config field: ``name``, CLI ``flag`` (``--name-with-dashes``), resolved ``type``, ``default``,
    ``help``, and ``kind``: ``str|int|float|bool|list|dict|choice``; ``choices`` for ``choice``;
    ``value_type`` for dict values (``str`` or ``float``); ``optional`` when ``None`` is allowed."""

    name: str
    flag: str
    type: Any
    default: Any
    help: str
    kind: str
    choices: tuple = ()
    value_type: type = str
    optional: bool = False


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def field_specs(config_cls: type) -> list[FieldSpec]:
    """Specs of every field of the dataclass ``config_cls``, in declaration order."""
    hints = typing.get_type_hints(config_cls)
    out = []
    for f in dataclasses.fields(config_cls):
        tp, optional = _unwrap_optional(hints[f.name])
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = None
        origin = get_origin(tp)
        value_type: type = str
        choices: tuple = ()
        if origin is Literal:
            kind, choices = "choice", get_args(tp)
        elif origin in (list, tuple) or tp in (list, tuple):
            kind = "list"
        elif origin is dict or tp is dict:
            kind = "dict"
            args = get_args(tp)
            value_type = args[1] if len(args) == 2 and args[1] in (str, float, int) else str
        elif tp in (bool, int, float, str):
            kind = tp.__name__
        else:
            kind = "str"
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        out.append(FieldSpec(f.name, flag, tp, default, f.metadata.get("help", ""), kind, choices, value_type, optional))
    return out


def parse_kv(value: str, flag: str, value_type: type = str) -> dict[str, Any]:
    """``"a=b,c=d"`` -> ``{"a": "b", "c": "d"}``, values converted to ``value_type``.
    Raises :class:`ForgeError` naming ``flag`` on a malformed pair."""
    out: dict[str, Any] = {}
    for part in str(value).split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ForgeError(f"{flag}: expected KEY=VALUE pairs separated by commas, got {part!r}.")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = value_type(v.strip())
        except ValueError:
            raise ForgeError(f"{flag}: {k.strip()}={v.strip()!r} is not a {value_type.__name__}.") from None
    return out


def coerce(spec: FieldSpec, value: Any) -> Any:
    """``value`` (a CLI string, a YAML scalar/list/dict, or already typed) as the field's type.
    Raises :class:`ForgeError` naming the flag and what it expects."""
    if value is None:
        return None if spec.optional or spec.kind in ("list", "dict") else spec.default
    try:
        if spec.kind == "dict":
            if isinstance(value, dict):
                return {str(k): spec.value_type(v) for k, v in value.items()}
            return parse_kv(value, spec.flag, spec.value_type)
        if spec.kind == "list":
            # repeated flags and comma lists both work: --op a --op b, --op a,b, YAML [a, b] or "a,b"
            items = value if isinstance(value, (list, tuple)) else [value]
            return [s.strip() for v in items for s in str(v).split(",") if s.strip()]
        if spec.kind == "choice":
            if value not in spec.choices:
                raise ForgeError(f"{spec.flag}: {value!r} is not one of {', '.join(map(str, spec.choices))}.")
            return value
        if spec.kind == "bool":
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("1", "true", "yes", "on"):
                return True
            if s in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if spec.kind == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if spec.kind == "float":
            return float(value)
        return str(value) if not isinstance(value, str) else value
    except (TypeError, ValueError):
        raise ForgeError(f"{spec.flag}: {value!r} is not a valid {spec.kind}.") from None


def build_config(config_cls: type, values: dict[str, Any] | None):
    """A ``config_cls`` from ``values`` keyed by flag names (dashes or underscores, with or without
    ``--``). Raises :class:`ForgeError` naming an unknown key and the known ones."""
    specs = {s.name: s for s in field_specs(config_cls)}
    kwargs = {}
    for key, value in (values or {}).items():
        name = str(key).lstrip("-").replace("-", "_")
        if name not in specs:
            raise ForgeError(
                f"unknown option {key!r} for {config_cls.__name__}; known: "
                + ", ".join(s.flag.lstrip("-") for s in specs.values())
            )
        kwargs[name] = coerce(specs[name], value)
    return config_cls(**kwargs)
