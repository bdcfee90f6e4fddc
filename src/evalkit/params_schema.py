"""JSON Schema of params files, generated from the same dataclasses that load them.

``python -m evalkit schema`` writes ``docs/params.schema.json``; editors that
understand JSON Schema (VS Code's YAML extension: ``# yaml-language-server:
$schema=../docs/params.schema.json`` on a params file's first line) then
check ``params/*.yaml`` while the user types. The schema is derived from
:class:`evalkit.params.Params` by walking its type hints (the loader walks
the same hints), and every setting's description is taken from the
``Attributes`` section of its dataclass docstring, so the schema, the loader
and the documentation cannot drift apart; ``tests/test_params_schema.py``
fails when the committed file is not what this module generates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal

from evalkit import paths

#: Where ``python -m evalkit schema`` writes the schema.
SCHEMA_FILE = "docs/params.schema.json"
_ENTRY = re.compile(r"^    (?P<names>[A-Za-z_][\w, ]*?)\s*:\s*(?P<type>.*)$")


def _descriptions(cls: type) -> dict[str, str]:
    """Field name -> description, from the numpydoc ``Attributes`` section of ``cls``."""
    doc = (cls.__doc__ or "").expandtabs()
    lines = doc.splitlines()
    out: dict[str, str] = {}
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "Attributes") + 2
    except StopIteration:
        return out
    names: list[str] = []
    for ln in lines[start:]:
        if ln.strip() and not ln.startswith("    "):
            break
        m = _ENTRY.match(ln)
        if m and not ln.startswith("     "):
            names = [n.strip() for n in m.group("names").split(",")]
            for n in names:
                out[n] = ""
        elif ln.startswith("        ") and names:
            for n in names:
                out[n] = (out[n] + " " + ln.strip()).strip()
        elif not ln.strip() and names:
            continue
        else:
            break
    return out


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        return {"anyOf": [_schema(a, defs) for a in typing.get_args(tp)]}
    if origin is Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin is list:
        return {"type": "array", "items": _schema(typing.get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(typing.get_args(tp)[1], defs)}
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            defs[name] = _object(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    simple = {str: {"type": "string"}, bool: {"type": "boolean"}, int: {"type": "integer"},
              float: {"type": "number"}, type(None): {"type": "null"},
              dt.date: {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}}
    if tp in simple:
        return dict(simple[tp])
    raise TypeError(f"unsupported type {tp!r} in the params schema")  # a bug in the dataclasses


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return dataclasses.MISSING
    if dataclasses.is_dataclass(value):
        return dataclasses.MISSING  # a nested mapping's defaults are on its own properties
    return value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else dataclasses.MISSING


def _object(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    described = _descriptions(cls)
    props, required = {}, []
    for f in dataclasses.fields(cls):
        prop = _schema(hints[f.name], defs)
        if described.get(f.name):
            prop["description"] = described[f.name]
        default = _default(f)
        if default is dataclasses.MISSING and f.default is dataclasses.MISSING and \
                f.default_factory is dataclasses.MISSING:
            required.append(f.name)
        elif default is not dataclasses.MISSING:
            prop["default"] = default
        props[f.name] = prop
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    summary = (cls.__doc__ or "").strip().splitlines()
    if summary:
        out["description"] = summary[0]
    if required:
        out["required"] = required
    return out


def _indicator_rules() -> list[dict[str, Any]]:
    """What each indicator kind requires (the loader's checks that a schema can express)."""
    return [
        {"if": {"properties": {"type": {"const": "score"}}, "required": ["type"]},
         "then": {"required": ["items", "cut_off"]}, "else": {"required": ["question"]}},
        {"if": {"properties": {"type": {"enum": ["likert", "scale"]}}, "required": ["type"]},
         "then": {"required": ["levels", "positive"]}},
    ]


def params_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a params file.

    Returns
    -------
    dict
        Ready for :func:`json.dumps`; definitions of nested settings under
        ``$defs``.
    """
    from evalkit.params import Params

    defs: dict[str, Any] = {}
    root = _object(Params, defs)
    root["properties"]["campaign"]["pattern"] = paths.CAMPAIGN_RE.pattern
    if "Indicator" in defs:
        defs["Indicator"]["allOf"] = _indicator_rules()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://evalkit.example/params.schema.json",
              "title": "evalkit params file (params/<campaign>.yaml)"}
    schema.update(root)
    schema["$defs"] = dict(sorted(defs.items()))
    return schema


def schema_text() -> str:
    """The schema as the bytes committed in :data:`SCHEMA_FILE` (sorted, indented, final newline)."""
    return json.dumps(params_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path | str | None = None) -> Path:
    """Write the schema atomically (default: ``docs/params.schema.json`` in the project)."""
    from evalkit.atomic import write_text_atomic

    return write_text_atomic(Path(path) if path else paths.project_root() / SCHEMA_FILE, schema_text())
