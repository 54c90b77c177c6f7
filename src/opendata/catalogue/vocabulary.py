"""The controlled vocabularies of the catalogue: domains, open levels, grades, masks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Term:
    code: str
    zh: str
    en: str


DOMAINS: Final = (
    Term("transport", "交通", "Transport"),
    Term("health", "医疗卫生", "Health"),
    Term("education", "教育", "Education"),
    Term("environment", "生态环境", "Environment"),
    Term("market", "市场监管", "Market regulation"),
    Term("social_security", "社会保障", "Social security"),
    Term("finance", "财税金融", "Finance and taxation"),
    Term("urban", "城市建设", "Urban development"),
    Term("culture_tourism", "文化旅游", "Culture and tourism"),
    Term("public_safety", "公共安全", "Public safety"),
    Term("agriculture", "农业农村", "Agriculture"),
    Term("economy", "经济发展", "Economy"),
    Term("credit", "信用服务", "Credit services"),
    Term("geography", "地理空间", "Geospatial"),
)

OPEN_LEVELS: Final = (
    Term("unconditional", "无条件开放", "Unconditionally open"),
    Term("conditional", "有条件开放", "Conditionally open"),
    Term("closed", "不予开放", "Closed"),
)

UPDATE_FREQUENCIES: Final = (
    Term("realtime", "实时", "Real time"),
    Term("daily", "每日", "Daily"),
    Term("weekly", "每周", "Weekly"),
    Term("monthly", "每月", "Monthly"),
    Term("quarterly", "每季度", "Quarterly"),
    Term("semiannual", "每半年", "Semi-annually"),
    Term("yearly", "每年", "Yearly"),
    Term("irregular", "不定期", "Irregular"),
    Term("static", "不更新", "Static"),
)

SENSITIVITY_GRADES: Final = (
    Term("L1", "公开", "Public"),
    Term("L2", "内部", "Internal"),
    Term("L3", "敏感", "Sensitive"),
    Term("L4", "高度敏感", "Highly sensitive"),
)

FIELD_TYPES: Final = ("string", "integer", "decimal", "number", "boolean", "date", "datetime")

# The core reads these itself; an enabled plugin importer adds more (opendata.extensions).
TABULAR_FORMATS: Final = ("csv", "xlsx")


def is_tabular_format(fmt: str) -> bool:
    """A table (ingested into the row store): csv, xlsx, or a format a plugin imports."""
    if fmt in TABULAR_FORMATS:
        return True
    from opendata.extensions.registry import imported_formats  # vocabulary stays a leaf at import

    return fmt in imported_formats()

DOMAIN_BY_CODE: Final = {t.code: t for t in DOMAINS}
DOMAIN_BY_ZH: Final = {t.zh: t for t in DOMAINS}
OPEN_LEVEL_BY_CODE: Final = {t.code: t for t in OPEN_LEVELS}
FREQUENCY_BY_CODE: Final = {t.code: t for t in UPDATE_FREQUENCIES}
SENSITIVITY_BY_CODE: Final = {t.code: t for t in SENSITIVITY_GRADES}

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Query-string words of the rows and download endpoints; a field cannot be called so.
RESERVED_FIELD_NAMES = frozenset({"fields", "sort", "limit", "cursor", "format", "bom", "header"})


def resolve_domain(value: str) -> Term | None:
    """Accept a domain by its code or by its Chinese name."""
    return DOMAIN_BY_CODE.get(value) or DOMAIN_BY_ZH.get(value)


@dataclass(frozen=True)
class MaskRule:
    """A masking rule (脱敏规则) as written in a manifest, e.g. ``keep_first:6``."""

    kind: str
    first: int = 0
    last: int = 0

    def __str__(self) -> str:
        if self.kind == "keep_first":
            return f"keep_first:{self.first}"
        if self.kind == "keep_last":
            return f"keep_last:{self.last}"
        if self.kind == "keep_first_last":
            return f"keep_first_last:{self.first}:{self.last}"
        return self.kind


def parse_mask(text: str) -> MaskRule:
    """Parse a masking rule; raises ValueError with a reason a publisher can act on."""
    parts = text.strip().split(":")
    kind, numbers = parts[0], parts[1:]
    expected = {"keep_first": 1, "keep_last": 1, "keep_first_last": 2, "hash": 0, "drop": 0}
    if kind not in expected:
        raise ValueError(
            f"unknown masking rule {text!r}; use keep_first:N, keep_last:N, "
            "keep_first_last:N:M, hash or drop"
        )
    if len(numbers) != expected[kind]:
        raise ValueError(f"masking rule {text!r} takes {expected[kind]} number(s)")
    try:
        counts = [int(n) for n in numbers]
    except ValueError:
        raise ValueError(f"masking rule {text!r}: counts must be whole numbers") from None
    if any(n < 0 for n in counts):
        raise ValueError(f"masking rule {text!r}: counts must not be negative")
    if kind == "keep_first":
        return MaskRule(kind, first=counts[0])
    if kind == "keep_last":
        return MaskRule(kind, last=counts[0])
    if kind == "keep_first_last":
        return MaskRule(kind, first=counts[0], last=counts[1])
    return MaskRule(kind)
