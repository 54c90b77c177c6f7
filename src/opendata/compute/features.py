"""A scoring model's features: what each one reads, checked against the catalogue, and the
feature matrix of a batch of subjects.

A feature is ``{"dataset", "resource", "field", "aggregate", "where", "scale", "default",
"map"}``:

* ``aggregate`` ``value`` (the one row singled out by subject key + ``where``; see
  rows.require_unique), ``count`` (rows matching, or non-null values of ``field``) or
  ``sum`` (of ``field`` over the matching rows);
* ``scale``: the fixed-point scale x is encoded at (rounded half-even);
* ``default``: the value used when the subject has no row, the field is null, a mapped
  string is not in ``map``, or the value is too large for the 2^63 bound. Missing data is
  never an error (an error would describe that subject); see the threat model;
* ``map``: for a string field, category -> number (e.g. tax credit rating A -> 4).

The stored form is the normalised one, with the default resource filled in, and its
canonical JSON is what the model digest covers: an administrator approves exactly this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy.orm import Session

from opendata.compute.multiexp import DEFAULT_EXPONENT_BITS
from opendata.compute.rows import (
    SubjectSource,
    aggregate,
    check_filters,
    check_subject,
    require_unique,
    source_for,
    values_by_subject,
)
from opendata.compute.schemas import FeatureIn
from opendata.compute.values import (
    NUMERIC_TYPES,
    SCORABLE_TYPES,
    ValueInputError,
    check_field_scale,
    feature_integer,
    parse_number_text,
)
from opendata.errors import bad_request

# |x| < 2^63 for every feature value: the exponent bound the multi-exponentiation is sized for.
EXPONENT_BITS = DEFAULT_EXPONENT_BITS - 1
MAX_MAP_ENTRIES = 256


@dataclass(frozen=True)
class Feature:
    spec: dict[str, Any]
    source: SubjectSource
    where: dict[str, Any]  # typed values
    value_type: str  # how the aggregated value is encoded
    default: int  # fixed-point at the feature's scale

    @property
    def scale(self) -> int:
        return self.spec["scale"]

    @property
    def licensed_fields(self) -> set[str]:
        """Fields whose use the licence must grant: the value read and every filter."""
        return ({self.spec["field"]} if self.spec["field"] else set()) | set(self.spec["where"])

    def canonical(self) -> str:
        return canonical(self.spec)


def canonical(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fail(index: int, message: str, code: str = "invalid_feature") -> Exception:
    return bad_request(code, f"feature {index}: {message}")


def _value_type(source: SubjectSource, raw: FeatureIn, index: int) -> str:
    if raw.field is None:
        return "integer"  # a count of rows
    if not isinstance(raw.field, str) or raw.field not in source.fields:
        raise _fail(index, f"{source.dataset_id}/{source.resource_id} has no field {str(raw.field)[:63]!r}")
    if raw.field == source.subject_key and raw.aggregate != "count":
        raise _fail(index, "the subject key itself is not a feature")
    field_type = source.field_type(raw.field)
    if raw.aggregate == "count":
        return "integer"
    if raw.aggregate == "sum" and field_type not in NUMERIC_TYPES:
        raise _fail(index, f"only numeric fields can be summed; {raw.field} is {field_type}", "field_not_computable")
    if raw.map is not None:
        if raw.aggregate != "value" or field_type != "string":
            raise _fail(index, "map applies to the value of a string field")
        return "mapped"
    if field_type not in SCORABLE_TYPES:
        raise _fail(index, f"{raw.field} is {field_type}: give a map from its values to numbers",
                    "field_not_computable")
    return "decimal" if raw.aggregate == "sum" else field_type


def _mapping(raw: Any, index: int) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not 0 < len(raw) <= MAX_MAP_ENTRIES:
        raise _fail(index, f"map is an object of 1 to {MAX_MAP_ENTRIES} category: number pairs")
    try:
        return {str(k): parse_number_text(v, f"map[{k!r}]") for k, v in raw.items()}
    except ValueInputError as error:
        raise _fail(index, str(error)) from None


def resolve(session: Session, raw: FeatureIn, index: int) -> Feature:
    """Check one feature against the catalogue and return its normalised form."""
    source = source_for(session, raw.dataset, raw.resource)
    value_type = _value_type(source, raw, index)
    try:
        scale = check_field_scale(raw.scale, "decimal")
    except ValueInputError as error:
        raise _fail(index, str(error), error.code) from None
    try:
        default_text = parse_number_text(raw.default, "default")
    except ValueInputError as error:
        raise _fail(index, str(error), "invalid_default") from None
    mapping = _mapping(raw.map, index)
    where = check_filters(source, raw.where)
    if raw.aggregate == "value":
        require_unique(session, source, where)
    default = feature_integer(default_text, "decimal", scale, EXPONENT_BITS)
    if default is None:
        raise _fail(index, "the default does not fit the feature's range", "invalid_default")
    spec = {
        "dataset": source.dataset_id, "resource": source.resource_id, "field": raw.field,
        "aggregate": raw.aggregate, "where": dict(raw.where or {}), "scale": scale,
        "default": default_text, "map": mapping,
    }
    return Feature(spec, source, where, value_type, default)


def from_stored(session: Session, spec: dict[str, Any], index: int) -> Feature:
    """A stored feature, checked again against today's catalogue (it may have changed)."""
    raw = FeatureIn(spec["dataset"], spec["resource"], spec["field"], spec["aggregate"], spec["where"],
                    spec["scale"], spec["default"], spec["map"])
    return resolve(session, raw, index)


def check_subjects(features: Sequence[Feature], subjects: Sequence[Any]) -> list[list[Any]]:
    """Each subject as each feature's key column compares it; 400 invalid_subject otherwise."""
    return [[check_subject(f.source, s) for s in subjects] for f in features]


def feature_matrix(session: Session, features: Sequence[Feature], subjects: Sequence[str],
                   typed: list[list[Any]]) -> tuple[list[list[int]], set[str]]:
    """(x per subject and feature, the subjects that had a row for at least one feature)."""
    rows = [[0] * len(features) for _ in subjects]
    found: set[str] = set()
    for column, feature in enumerate(features):
        keys = typed[column]
        values = values_by_subject(session, feature.source, keys, feature.spec["field"] or "", feature.where)
        mapping = feature.spec["map"]
        for position, (subject, key) in enumerate(zip(subjects, keys)):
            value, had_rows = aggregate(values.get(key), feature.spec["aggregate"])
            if had_rows:
                found.add(subject)
            encoded = feature_integer(value, "string" if mapping else feature.value_type, feature.scale,
                                      EXPONENT_BITS, mapping)
            rows[position][column] = feature.default if encoded is None else encoded
    return rows, found
