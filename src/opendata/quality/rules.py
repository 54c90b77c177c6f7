"""Quality rules a manifest declares on a resource, beyond the data dictionary.

- ``checks``: cross-field rules, one comparison each: ``"end >= start"``, ``"amount > 0"``,
  ``"status != 'void'"``. They are parsed here by a small grammar (field, operator, field or
  literal), never evaluated as Python, so a manifest cannot run code.
- ``references``: a field whose values must exist in another resource's key column,
  ``{field = "credit_code", resource = "enterprise-register/main", key = "credit_code"}``.
- ``unique_keys``: keys measured for uniqueness without refusing the file, e.g.
  ``[["plate", "day"]]`` (the primary key and ``unique`` fields are enforced at ingest).

Checkers raise ValueError with a reason (manifest_schema style); ``resource_problems`` then
checks the rules against the resource's fields, and ``reference_problems`` against the other
resources of the same manifest, so every bad rule is reported with its dataset and field.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from opendata.formats import converter_for

MAX_RULES = 50
FIELD = re.compile(r"[a-z][a-z0-9_]{0,62}")
COMPARISON = re.compile(r"^\s*([a-z][a-z0-9_]{0,62})\s*(>=|<=|==|!=|=|<|>)\s*(.+?)\s*$")
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "=": operator.eq,
    "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}
NUMERIC = ("integer", "decimal", "number")
ORDERED_ONLY = ("<", "<=", ">", ">=")


# --- declarations (manifest side) ---------------------------------------------------


def _items(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(";") if part.strip()]
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    if len(value) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} {what}")
    return value


def checks(value: Any) -> list[str]:
    """A list of comparisons as text (each is parsed with the resource's fields, so that
    every bad one is reported, not only the first)."""
    rules = _items(value, "checks")
    for rule in rules:
        if not isinstance(rule, str):
            raise ValueError(f"a check is text like \"end >= start\", got {rule!r}")
    return [rule.strip() for rule in rules]


def unique_keys(value: Any) -> list[list[str]]:
    """Keys as lists of field names; in a workbook cell, ``plate+day;code``."""
    keys = []
    for key in _items(value, "unique_keys"):
        parts = key.split("+") if isinstance(key, str) else key
        if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
            raise ValueError(f"a unique key is a list of field names, got {key!r}")
        names = [p.strip() for p in parts]
        if len(set(names)) != len(names):
            raise ValueError(f"unique key {names!r} names a field twice")
        keys.append(names)
    return keys


REFERENCE_TEXT = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*->\s*([a-z0-9-]+)/([a-z0-9-]+)\.([a-z][a-z0-9_]*)\s*$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def references(value: Any) -> list[dict[str, str]]:
    """One table, a list of tables, or (in a workbook) ``field -> dataset/resource.key;…``."""
    if isinstance(value, dict):
        value = [value]
    found = []
    for item in _items(value, "references"):
        if isinstance(item, str):
            match = REFERENCE_TEXT.match(item)
            if not match:
                raise ValueError(f"{item!r} is not written field -> dataset/resource.key")
            item = {"field": match[1], "resource": f"{match[2]}/{match[3]}", "key": match[4]}
        if not isinstance(item, dict):
            raise ValueError("a reference is a table {field, resource, key}")
        unknown = set(item) - {"field", "resource", "key"}
        missing = {"field", "resource", "key"} - set(item)
        if unknown or missing:
            raise ValueError("a reference has exactly the keys field, resource (dataset-id/resource-id) and key"
                             + (f"; unknown {', '.join(sorted(unknown))}" if unknown else "")
                             + (f"; missing {', '.join(sorted(missing))}" if missing else ""))
        if not all(isinstance(item[k], str) for k in item):
            raise ValueError("a reference's field, resource and key are text")
        target = item["resource"].strip().split("/")
        if len(target) != 2 or not all(SLUG.match(part) for part in target):
            raise ValueError(f"reference resource {item['resource']!r} must be written dataset-id/resource-id")
        found.append({k: item[k].strip() for k in ("field", "resource", "key")})
    return found


def cell_text(value: list[Any]) -> str:
    """A rule list as one workbook cell (the form the checkers above read back)."""
    parts = []
    for item in value:
        if isinstance(item, dict):
            dataset, resource = item["resource"].split("/")
            parts.append(f"{item['field']} -> {dataset}/{resource}.{item['key']}")
        elif isinstance(item, list):
            parts.append("+".join(item))
        else:
            parts.append(str(item))
    return ";".join(parts)


# --- checks: the grammar -------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    text: str
    left: str
    op: str
    right_field: str | None
    literal: str | None  # the literal as written, typed against the left field later


def parse_check(text: str) -> Check:
    match = COMPARISON.match(text)
    if not match:
        raise ValueError(f"check {text!r} is not 'field OP field' or 'field OP value' "
                         f"(OP one of {', '.join(OPERATORS)})")
    left, op, right = match.groups()
    if FIELD.fullmatch(right) and right not in ("true", "false"):
        return Check(text.strip(), left, op, right, None)
    if len(right) >= 2 and right[0] == right[-1] and right[0] in "'\"":
        return Check(text.strip(), left, op, None, right[1:-1])
    if re.fullmatch(r"[-+]?\d+(\.\d+)?|\d{4}-\d{2}-\d{2}(T[\d:]+)?|true|false", right):
        return Check(text.strip(), left, op, None, right)
    raise ValueError(f"check {text!r}: {right!r} is neither a field name nor a value (quote text: 'A')")


def comparable(left_type: str, right_type: str) -> bool:
    return left_type == right_type or (left_type in NUMERIC and right_type in NUMERIC)


def check_problem(check: Check, types: dict[str, str]) -> str | None:
    """Why a parsed check does not fit the resource's fields (None: it fits)."""
    if check.left not in types:
        return f"check {check.text!r}: {check.left!r} is not one of the resource's fields"
    left_type = types[check.left]
    if check.op in ORDERED_ONLY and left_type == "boolean":
        return f"check {check.text!r}: {check.op} does not apply to boolean field {check.left!r}"
    if check.right_field is not None:
        if check.right_field not in types:
            return f"check {check.text!r}: {check.right_field!r} is not one of the resource's fields"
        if not comparable(left_type, types[check.right_field]):
            return (f"check {check.text!r} compares {left_type} field {check.left!r} with "
                    f"{types[check.right_field]} field {check.right_field!r}")
        return None
    try:
        if converter_for(left_type)(check.literal) is None:
            return f"check {check.text!r}: compare with a value, not an empty text"
    except ValueError as exc:
        return f"check {check.text!r}: {check.literal!r} is not a {left_type} ({exc})"
    return None


def resource_problems(rules: dict[str, Any], fields: Sequence[Any]) -> list[tuple[str | None, str, str]]:
    """(field, key, reason) for every rule that does not fit the resource's fields."""
    types = {f.name: f.type for f in fields}
    problems: list[tuple[str | None, str, str]] = []
    for text in rules.get("checks") or []:
        try:
            check = parse_check(text)
        except ValueError as exc:
            problems.append((None, "checks", str(exc)))
            continue
        if (reason := check_problem(check, types)) is not None:
            problems.append((check.left if check.left in types else None, "checks", reason))
    for key in rules.get("unique_keys") or []:
        for name in key:
            if name not in types:
                problems.append((None, "unique_keys", f"unique key field {name!r} is not one of the resource's fields"))
    for ref in rules.get("references") or []:
        if ref["field"] not in types:
            problems.append((None, "references", f"reference field {ref['field']!r} is not one of the resource's fields"))
    return problems


def not_open_reference(ref: dict[str, str], level: str) -> str:
    """Why a reference into data that is not open is refused: the report is public, and the
    failed count of an upload of candidate values says which of them that table holds."""
    return (f"reference into {ref['resource']}, which is {level}: references only go to unconditional "
            "data (the public quality report would tell which values the restricted table holds)")


def reference_problems(datasets: Sequence[Any]) -> list[tuple[str, str, str, str]]:
    """(dataset, resource, field, reason) for references to a resource of the same manifest
    that lacks the key, or whose key type differs. References to resources of another
    catalogue are resolved when measured (and reported there if they do not resolve)."""
    tables = {(d.id, r.id): r for d in datasets for r in d.resources}
    problems = []
    for dataset in datasets:
        for resource in dataset.resources:
            types = {f.name: f.type for f in resource.fields}
            for ref in resource.references or []:
                target_dataset = ref["resource"].split("/")[0]
                target = tables.get(tuple(ref["resource"].split("/")))  # type: ignore[arg-type]
                if target is None:
                    if any(d.id == target_dataset for d in datasets):
                        problems.append((dataset.id, resource.id, ref["field"],
                                         f"reference resource {ref['resource']!r} is not in this catalogue"))
                    continue
                key_types = {f.name: f.type for f in target.fields}
                level = next(d.open_level for d in datasets if d.id == target_dataset)
                if level != "unconditional":
                    problems.append((dataset.id, resource.id, ref["field"], not_open_reference(ref, level)))
                elif ref["key"] not in key_types:
                    problems.append((dataset.id, resource.id, ref["field"],
                                     f"reference key {ref['key']!r} is not a field of {ref['resource']}"))
                elif ref["field"] in types and not comparable(types[ref["field"]], key_types[ref["key"]]):
                    problems.append((dataset.id, resource.id, ref["field"],
                                     f"reference compares {types[ref['field']]} with {key_types[ref['key']]} "
                                     f"key {ref['resource']}.{ref['key']}"))
    return problems


# --- checks: evaluation (ingest side) --------------------------------------------------


@dataclass
class CompiledCheck:
    text: str
    left: int
    compare: Callable[[Any, Any], bool]
    right: int | None
    value: Any


def compile_checks(texts: Sequence[str], fields: Sequence[Any]) -> list[CompiledCheck]:
    index = {f.name: i for i, f in enumerate(fields)}
    types = {f.name: f.type for f in fields}
    compiled = []
    for text in texts:
        check = parse_check(text)
        value = None if check.literal is None else converter_for(types[check.left])(check.literal)
        compiled.append(CompiledCheck(check.text, index[check.left], OPERATORS[check.op],
                                      None if check.right_field is None else index[check.right_field], value))
    return compiled
