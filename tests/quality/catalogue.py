"""A catalogue with quality rules: an enterprise register, and permits that refer to it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.factories import manifest, write_catalogue

REGISTER = {
    "id": "enterprise-register", "title_zh": "企业登记信息", "description_zh": "企业登记信息。",
    "domain": "market", "publisher": "gz-transport", "open_level": "unconditional",
    "update_frequency": "yearly", "licence": "gz-open-data-1.0", "version": "1",
    "resources": [{
        "id": "main", "title_zh": "企业名录", "format": "csv", "path": "data/register.csv",
        "primary_key": "credit_code",
        "fields": [
            {"name": "credit_code", "title_zh": "统一社会信用代码", "type": "string"},
            {"name": "name", "title_zh": "企业名称", "type": "string"},
        ],
    }],
}
PERMITS = {
    "id": "permits", "title_zh": "施工许可", "description_zh": "施工许可证。",
    "domain": "urban", "publisher": "gz-transport", "open_level": "unconditional",
    # Declared modified long ago and monthly: overdue whenever the test runs.
    "update_frequency": "monthly", "modified": "2024-01-01", "licence": "gz-open-data-1.0", "version": "1",
    "resources": [{
        "id": "list", "title_zh": "许可证", "format": "csv", "path": "data/permits.csv",
        "primary_key": "permit_no",
        "checks": ["end >= start", "amount > 0"],
        "references": {"field": "credit_code", "resource": "enterprise-register/main", "key": "credit_code"},
        "unique_keys": [["credit_code", "start"]],
        "fields": [
            {"name": "permit_no", "title_zh": "许可证号", "type": "string"},
            {"name": "credit_code", "title_zh": "统一社会信用代码", "type": "string"},
            {"name": "start", "title_zh": "开始日期", "type": "date"},
            {"name": "end", "title_zh": "结束日期", "type": "date"},
            {"name": "amount", "title_zh": "金额", "type": "decimal"},
        ],
    }],
}
REGISTER_CSV = "credit_code,name\nC1,甲公司\nC2,乙公司\nC3,丙公司\n"
# Row 3 ends before it starts; row 4's enterprise is not registered; row 5 repeats (C1, 2024-01-01)
# and has no amount; row 6 has no end and a negative amount.
PERMITS_CSV = (
    "permit_no,credit_code,start,end,amount\n"
    "P1,C1,2024-01-01,2024-06-30,100.5\n"
    "P2,C2,2024-02-01,2024-12-31,200\n"
    "P3,C3,2024-05-01,2024-04-01,50\n"
    "P4,C9,2024-03-01,2024-03-31,10\n"
    "P5,C1,2024-01-01,2024-02-01,\n"
    "P6,,2024-07-01,,-5\n"
)


def quality_manifest(**permits_resource: Any) -> dict[str, Any]:
    raw = manifest()
    permits = copy.deepcopy(PERMITS)
    permits["resources"][0].update(permits_resource)
    raw["datasets"] = [copy.deepcopy(REGISTER), permits]
    return raw


def write_quality_catalogue(folder: Path, raw: dict[str, Any] | None = None) -> Path:
    return write_catalogue(folder, raw or quality_manifest(),
                           {"data/register.csv": REGISTER_CSV, "data/permits.csv": PERMITS_CSV})
