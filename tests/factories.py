"""Small catalogues written on the fly, so each test states exactly what it relies on."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import tomli_w

BASE: dict[str, Any] = {
    "catalogue": {"id": "mini", "title_zh": "迷你目录", "title_en": "Mini catalogue"},
    "publishers": [
        {"id": "gz-transport", "name_zh": "广州市交通运输局", "name_en": "Guangzhou Transport Bureau"},
        {"id": "gz-hrss", "name_zh": "广州市人力资源和社会保障局", "name_en": "Guangzhou HRSS Bureau"},
    ],
    "datasets": [
        {
            "id": "bus-stops",
            "title_zh": "广州市公交站点",
            "title_en": "Guangzhou bus stops",
            "description_zh": "全市公交站点的位置和线路信息。",
            "description_en": "Locations and lines of every bus stop.",
            "domain": "交通",
            "publisher": "gz-transport",
            "open_level": "unconditional",
            "tags": ["公交", "bus"],
            "update_frequency": "monthly",
            "licence": "gz-open-data-1.0",
            "version": "1.0.0",
            "resources": [
                {
                    "id": "stops",
                    "title_zh": "公交站点表",
                    "title_en": "Bus stops",
                    "format": "csv",
                    "path": "data/stops.csv",
                    "primary_key": "stop_id",
                    "fields": [
                        {"name": "stop_id", "title_zh": "站点编号", "title_en": "Stop ID", "type": "string"},
                        {"name": "name", "title_zh": "站点名称", "title_en": "Name", "type": "string"},
                        {"name": "district", "title_zh": "所属区", "title_en": "District", "type": "string"},
                        {"name": "lines", "title_zh": "线路数", "title_en": "Lines", "type": "integer", "unit": "条"},
                    ],
                }
            ],
        },
        {
            "id": "si-headcount",
            "title_zh": "企业社保参保人数",
            "title_en": "Enterprise social-insurance headcount",
            "description_zh": "按月统计的企业参保人数。",
            "domain": "social_security",
            "publisher": "gz-hrss",
            "open_level": "conditional",
            "tags": ["社保"],
            "update_frequency": "monthly",
            "licence": "gz-authorised-1.0",
            "version": "2.1",
            "resources": [
                {
                    "id": "monthly",
                    "title_zh": "月度参保人数",
                    "format": "csv",
                    "path": "data/headcount.csv",
                    "subject_key": "credit_code",
                    "fields": [
                        {"name": "credit_code", "title_zh": "统一社会信用代码", "type": "string", "sensitivity": "L2"},
                        {"name": "month", "title_zh": "月份", "type": "date"},
                        {"name": "headcount", "title_zh": "参保人数", "type": "integer", "unit": "人"},
                    ],
                }
            ],
        },
        {
            "id": "personal-si-base",
            "title_zh": "个人社保缴费基数",
            "title_en": "Personal social-insurance contribution base",
            "description_zh": "个人社保缴费基数，不予开放，仅提供核验服务。",
            "domain": "社会保障",
            "publisher": "gz-hrss",
            "open_level": "closed",
            "update_frequency": "monthly",
            "licence": "closed",
            "version": "1",
            "resources": [
                {
                    "id": "bases",
                    "title_zh": "缴费基数",
                    "format": "csv",
                    "path": "data/bases.csv",
                    "fields": [
                        {"name": "id_number", "title_zh": "身份证号", "type": "string", "sensitivity": "L4", "mask": "keep_first_last:6:4"},
                        {"name": "base", "title_zh": "缴费基数", "type": "decimal", "unit": "元", "sensitivity": "L4"},
                    ],
                }
            ],
        },
    ],
}

DATA = {
    "data/stops.csv": "stop_id,name,district,lines\nS001,天河客运站,天河区,12\nS002,\"北京路, 步行街\",越秀区,8\nS003,番禺广场,番禺区,5\n",
    "data/headcount.csv": "credit_code,month,headcount\n91440101MA5CXXXX1A,2024-01-01,35\n",
    "data/bases.csv": "id_number,base\n440106199001011234,8500.00\n",
}


def manifest(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw.update(changes)
    return raw


def write_catalogue(folder: Path, raw: dict[str, Any] | None = None, data: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalogue.toml").write_text(tomli_w.dumps(raw or manifest()), encoding="utf-8")
    for rel, content in (DATA if data is None else data).items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return folder
