"""Whether a new JSON Schema of an event can still be read by subscribers written against the old one.

Subscribers of numport's topics are other teams' code. For one `schema_version` they may rely on: every field
they know is still there, with the same name; its values stay within the types, formats, patterns and enum
values they know; and no field they never heard of becomes required. Adding optional fields, widening a type,
adding an enum value, and changing descriptions are fine. Anything else needs a new `schema_version`.
Pure: schemas in, findings out.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
NARROWING = ("pattern", "format", "maxLength", "minLength", "maximum", "minimum")
WIDENING = {("integer", "number")}


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every change from `old` to `new` that would break a subscriber, named by the field's path."""
    return _object(old, new, old.get("$defs", {}), new.get("$defs", {}), "")


def _object(old: Schema, new: Schema, old_defs: Schema, new_defs: Schema, path: str) -> list[str]:
    found: list[str] = []
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    for name in old_fields:
        if name not in new_fields:
            found.append(f"{path}{name}: removed or renamed")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        found.append(f"{path}{name}: newly required")
    for name in old_fields.keys() & new_fields.keys():
        found += _value(old_fields[name], new_fields[name], old_defs, new_defs, f"{path}{name}")
    return found


def _value(old: Schema, new: Schema, old_defs: Schema, new_defs: Schema, path: str) -> list[str]:
    old, new = _resolve(old, old_defs), _resolve(new, new_defs)
    old_kinds, new_kinds = _alternatives(old, old_defs), _alternatives(new, new_defs)
    if len(old_kinds) > 1 or len(new_kinds) > 1:  # a union: each old alternative must still be accepted
        found = []
        for kind in old_kinds:
            matches = [n for n in new_kinds if n.get("type") == kind.get("type")]
            if not matches:
                found.append(f"{path}: no longer accepts {kind.get('type', 'that value')}")
            else:
                found += _value(kind, matches[0], old_defs, new_defs, path)
        return found
    found = []
    kinds = (old.get("type"), new.get("type"))
    if kinds[0] != kinds[1] and kinds[1] is not None and kinds not in WIDENING:
        found.append(f"{path}: type changed from {kinds[0]} to {kinds[1]}")
    for constraint in NARROWING:
        if constraint in new and new.get(constraint) != old.get(constraint):
            found.append(f"{path}: {constraint} now {new[constraint]!r} (was {old.get(constraint)!r})")
    old_values, new_values = _values(old), _values(new)
    if new_values is not None:
        if old_values is None:
            found.append(f"{path}: now limited to {new_values}")
        elif lost := [v for v in old_values if v not in new_values]:
            found.append(f"{path}: enum values removed: {lost}")
    if old.get("type") == "object" or "properties" in old:
        found += _object(old, new, old_defs, new_defs, f"{path}.")
    if "items" in old and "items" in new:
        found += _value(old["items"], new["items"], old_defs, new_defs, f"{path}[]")
    return found


def _values(schema: Schema) -> list[Any] | None:
    """The values a field may take, when it is limited to some (pydantic writes a one-value Literal as const)."""
    if "enum" in schema:
        return list(schema["enum"])
    return [schema["const"]] if "const" in schema else None


def _resolve(schema: Schema, defs: Schema) -> Schema:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _alternatives(schema: Schema, defs: Schema) -> list[Schema]:
    options = schema.get("anyOf") or schema.get("oneOf")
    return [_resolve(o, defs) for o in options] if options else [schema]
