"""A catalogue with every field type, masks and awkward text, for the data endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from litestar.testing import TestClient

from opendata import create_app
from opendata.settings import Settings
from tests.factories import DATA, manifest, write_catalogue

PEOPLE_FIELDS = [
    {"name": "person_id", "title_zh": "身份证号", "title_en": "ID number", "type": "string", "sensitivity": "L4", "mask": "hash"},
    {"name": "name", "title_zh": "姓名", "title_en": "Name", "type": "string", "sensitivity": "L3", "mask": "keep_first:1"},
    {"name": "phone", "title_zh": "电话", "type": "string", "sensitivity": "L4", "mask": "drop"},
    {"name": "card", "title_zh": "卡号", "type": "string", "sensitivity": "L3", "mask": "keep_last:4"},
    {"name": "district", "title_zh": "区", "title_en": "District", "type": "string"},
    {"name": "age", "title_zh": "年龄", "type": "integer"},
    {"name": "income", "title_zh": "收入", "type": "decimal", "unit": "元"},
    {"name": "score", "title_zh": "评分", "type": "number"},
    {"name": "member", "title_zh": "会员", "type": "boolean"},
    {"name": "joined", "title_zh": "加入日期", "type": "date"},
    {"name": "seen_at", "title_zh": "最近访问", "type": "datetime"},
    {"name": "note", "title_zh": "备注", "type": "string"},
]

PEOPLE_CSV = (
    "person_id,name,phone,card,district,age,income,score,member,joined,seen_at,note\n"
    "440106199001011234,张三丰,13800000001,6222020012345678,天河区,34,12345.67,4.5,true,2020-01-15,2024-05-01T08:30:00,普通\n"
    "440103198505052345,李四,13800000002,6222020087654321,荔湾区,39,8800.00,3.25,false,2019-07-01,2024-05-02T09:00:00,\"含逗号, 和\"\"引号\"\"\n以及换行\"\n"
    "440104197712123456,王五,,6222,越秀区,47,,2.0,true,2018-03-03,,\"=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\"\n"
    "440105200002024567,赵六,13800000004,6222020011112222,天河区,24,5600.5,,false,2023-12-31,2024-05-03T10:15:00,\n"
)


def data_manifest() -> dict:
    raw = manifest()
    raw["datasets"].append({
        "id": "people", "title_zh": "测试人员名单", "title_en": "Test people",
        "description_zh": "用于测试脱敏和各种字段类型。", "domain": "public_safety",
        "publisher": "gz-hrss", "open_level": "unconditional", "update_frequency": "static",
        "licence": "gz-open-data-1.0", "version": "1",
        "resources": [{"id": "list", "title_zh": "名单", "title_en": "List", "format": "csv",
                       "path": "data/people.csv", "fields": PEOPLE_FIELDS}],
    })
    raw["datasets"].append({
        "id": "empty", "title_zh": "空表", "description_zh": "没有行的表。", "domain": "urban",
        "publisher": "gz-transport", "open_level": "unconditional", "update_frequency": "static",
        "licence": "gz-open-data-1.0", "version": "1",
        "resources": [{"id": "nothing", "title_zh": "空", "format": "csv", "path": "data/empty.csv",
                       "fields": [{"name": "a", "title_zh": "甲", "type": "integer"},
                                  {"name": "when", "title_zh": "日期", "type": "date"}]}],
    })
    return raw


@pytest.fixture
def data_catalogue(tmp_path: Path) -> Path:
    data = dict(DATA)
    data["data/people.csv"] = PEOPLE_CSV
    data["data/empty.csv"] = "a,when\n"
    return write_catalogue(tmp_path / "data-cat", data_manifest(), data)


@pytest.fixture
def data_settings(settings: Settings, data_catalogue: Path) -> Settings:
    return settings.replace(catalogues=(data_catalogue,), load_catalogues_on_startup=True)


@pytest.fixture
def data_client(data_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(data_settings)) as client:
        yield client
