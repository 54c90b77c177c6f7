"""The portal tests' catalogue: the mini catalogue (open, conditional, closed), a second
conditional dataset, and a people table whose masks the preview must apply."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.data_fixtures import PEOPLE_CSV, PEOPLE_FIELDS
from tests.factories import DATA, manifest, write_catalogue

ARREARS = {
    "id": "si-arrears", "title_zh": "企业社保欠费记录", "title_en": "Enterprise social-insurance arrears",
    "description_zh": "按月统计的企业欠费金额。", "domain": "social_security", "publisher": "gz-hrss",
    "open_level": "conditional", "update_frequency": "monthly", "licence": "gz-authorised-1.0", "version": "1",
    "resources": [{
        "id": "arrears", "title_zh": "欠费", "format": "csv", "path": "data/arrears.csv",
        "fields": [
            {"name": "credit_code", "title_zh": "统一社会信用代码", "type": "string", "sensitivity": "L2"},
            {"name": "month", "title_zh": "月份", "type": "date"},
            {"name": "amount", "title_zh": "欠费金额", "type": "decimal", "unit": "元"},
        ],
    }],
}

PEOPLE = {
    "id": "people", "title_zh": "测试人员名单", "title_en": "Test people",
    "description_zh": "用于测试脱敏和各种字段类型。", "domain": "public_safety", "publisher": "gz-hrss",
    "open_level": "unconditional", "update_frequency": "static", "licence": "gz-open-data-1.0", "version": "1",
    "resources": [{"id": "list", "title_zh": "名单", "title_en": "List", "format": "csv",
                   "path": "data/people.csv", "fields": copy.deepcopy(PEOPLE_FIELDS)}],
}

HEADCOUNT_CSV = (
    "credit_code,month,headcount\n"
    "91440101MA5CXXXX1A,2024-01-01,35\n"
    "91440101MA5CXXXX1A,2024-02-01,36\n"
    "91440101MA5CXXXX1A,2024-03-01,38\n"
)

PORTAL_DATA = {
    **DATA,
    "data/headcount.csv": HEADCOUNT_CSV,
    "data/arrears.csv": "credit_code,month,amount\n91440101MA5CXXXX1A,2024-01-01,1200.50\n",
    "data/people.csv": PEOPLE_CSV,
}


def write_portal_catalogue(folder: Path) -> Path:
    raw = manifest()
    raw["datasets"] += [copy.deepcopy(ARREARS), copy.deepcopy(PEOPLE)]
    return write_catalogue(folder, raw, PORTAL_DATA)
