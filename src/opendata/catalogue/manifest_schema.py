"""The keys of a catalogue manifest: which are required, and how each value is checked.

A checker returns the clean value or raises ValueError with a reason a publisher can act
on; manifest.py applies these tables to TOML (and excel.py to workbooks).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable

from opendata.catalogue import field_rules as rules
from opendata.catalogue import vocabulary as vocab
from opendata.quality import rules as quality

Checker = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, got {type(value).__name__}")
    return value.strip()


def _nonempty(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("must not be empty")
    return text


def _slug(value: Any) -> str:
    text = _text(value)
    if not vocab.SLUG.match(text):
        raise ValueError(f"{text!r} is not a valid id (lower-case letters, digits and '-')")
    return text


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (write 2024-01-31)")


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of text tags")
    tags = [v.strip() for v in value if v.strip()]
    if len(set(tags)) != len(tags):
        raise ValueError("lists a tag twice")
    if any(len(t) > 63 for t in tags):
        raise ValueError("tags are at most 63 characters")
    return tags


def _one_of(choices: dict[str, vocab.Term] | tuple[str, ...], what: str) -> Checker:
    def check(value: Any) -> str:
        text = _text(value)
        if text not in choices:
            raise ValueError(f"unknown {what} {text!r}; expected one of {', '.join(choices)}")
        return text

    return check


def _domain(value: Any) -> str:
    text = _text(value)
    term = vocab.resolve_domain(text)
    if term is None:
        known = ", ".join(f"{t.code} ({t.zh})" for t in vocab.DOMAINS)
        raise ValueError(f"unknown domain {text!r}; expected one of {known}")
    return term.code


def _field_name(value: Any) -> str:
    text = _text(value)
    if not vocab.FIELD_NAME.match(text):
        raise ValueError(f"{text!r} is not a valid field name ([a-z][a-z0-9_]*, ≤ 63 chars)")
    if text in vocab.RESERVED_FIELD_NAMES:
        reserved = ", ".join(sorted(vocab.RESERVED_FIELD_NAMES))
        raise ValueError(f"{text!r} is reserved by the query API ({reserved}); rename the field")
    if "__" in text:
        raise ValueError(f"{text!r}: '__' separates a field from a filter operator in queries")
    return text


def _mask(value: Any) -> str:
    return str(vocab.parse_mask(_text(value)))


CATALOGUE_KEYS: dict[str, tuple[bool, Checker]] = {
    "id": (True, _slug),
    "title_zh": (True, _nonempty),
    "title_en": (False, _text),
    "description_zh": (False, _text),
    "description_en": (False, _text),
    "missing_values": (False, rules.markers),
}
PUBLISHER_KEYS: dict[str, tuple[bool, Checker]] = {
    "id": (True, _slug),
    "name_zh": (True, _nonempty),
    "name_en": (False, _text),
    "website": (False, _text),
    "contact": (False, _text),
}
def _extensions(value: Any) -> dict[str, Any]:
    """Each table under [datasets.extensions] cleaned by the enabled extension of its name
    (opendata.extensions.metadata); an unknown name or a bad value is a problem."""
    from opendata.extensions.registry import metadata_extension, one_line  # enabled in this process

    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError("extensions must be tables: [datasets.extensions.<name>]")
    clean, problems = {}, []
    for name, values in value.items():
        extension = metadata_extension(name)
        if extension is None:
            problems.append(f"no enabled plugin reads the metadata extension {name!r}")
            continue
        try:
            clean[name] = extension.clean(values)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
        except Exception as exc:  # a plugin's bug: a problem of this dataset, not a traceback
            problems.append(f"{name}: the metadata extension failed: {one_line(exc)}")
    if problems:
        raise ValueError("; ".join(problems))
    return clean


DATASET_KEYS: dict[str, tuple[bool, Checker]] = {
    "id": (True, _slug),
    "title_zh": (True, _nonempty),
    "title_en": (False, _text),
    "description_zh": (True, _nonempty),
    "description_en": (False, _text),
    "domain": (True, _domain),
    "publisher": (True, _slug),
    "open_level": (True, _one_of(vocab.OPEN_LEVEL_BY_CODE, "open level")),
    "industry_code": (False, _text),
    "tags": (False, _tags),
    "contact": (False, _text),
    "update_frequency": (True, _one_of(vocab.FREQUENCY_BY_CODE, "update frequency")),
    "licence": (True, _nonempty),
    "spatial_coverage": (False, _text),
    "temporal_start": (False, _date),
    "temporal_end": (False, _date),
    "issued": (False, _date),
    "modified": (False, _date),
    "version": (True, _nonempty),
    "source_system": (False, _text),
    "update_mechanism": (False, _text),
    "quality_standard": (False, _text),
    "usage_notes": (False, _text),
    # [datasets.extensions.<name>]: plugins' metadata extensions, checked by them.
    "extensions": (False, _extensions),
}
def _history(value: Any) -> list[str]:
    items = rules.split_list(value)
    if not items or not all(isinstance(item, str) and item.strip() for item in items):
        raise ValueError('must list the earlier files, oldest first, e.g. ["history/2024-01.csv"]')
    if len(items) > 20:
        raise ValueError("at most 20 earlier files")
    return [item.strip() for item in items]


RESOURCE_KEYS: dict[str, tuple[bool, Checker]] = {
    "id": (True, _slug),
    "title_zh": (True, _nonempty),
    "title_en": (False, _text),
    "description_zh": (False, _text),
    "description_en": (False, _text),
    "format": (True, lambda v: _nonempty(v).lower()),
    "path": (False, _nonempty),
    # Earlier releases of the file, oldest first: replayed as versions on the first load
    # (opendata.catalogue.history).
    "history": (False, _history),
    "primary_key": (False, _field_name),
    "subject_key": (False, _field_name),
    "missing_values": (False, rules.markers),
    # Measured, not enforced (docs/quality.md): cross-field checks, references, extra keys.
    "checks": (False, quality.checks),
    "references": (False, quality.references),
    "unique_keys": (False, quality.unique_keys),
}
FIELD_KEYS: dict[str, tuple[bool, Checker]] = {
    "name": (True, _field_name),
    "title_zh": (True, _nonempty),
    "title_en": (False, _text),
    "type": (True, _one_of(vocab.FIELD_TYPES, "field type")),
    "unit": (False, _text),
    "description": (False, _text),
    "sensitivity": (False, _one_of(vocab.SENSITIVITY_BY_CODE, "sensitivity grade")),
    "mask": (False, _mask),
    "missing_values": (False, rules.markers),
    # Constraints; bounds and enum values are checked against the field's type afterwards.
    "required": (False, rules.flag),
    "unique": (False, rules.flag),
    "minimum": (False, rules.scalar),
    "maximum": (False, rules.scalar),
    "enum": (False, rules.enum),
    "pattern": (False, rules.pattern),
    "min_length": (False, rules.count),
    "max_length": (False, rules.count),
}
