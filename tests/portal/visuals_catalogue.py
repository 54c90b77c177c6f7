"""A catalogue for the map, chart and related-datasets tests: open stops with
coordinates, the same with a masked and a dropped coordinate, a conditional table with
coordinates, a daily series, and datasets that share tags, domain or publisher."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.factories import write_catalogue

PUBLISHERS = [
    {"id": "gz-transport", "name_zh": "广州市交通运输局", "name_en": "Guangzhou Transport Bureau"},
    {"id": "gz-hrss", "name_zh": "广州市人力资源和社会保障局", "name_en": "Guangzhou HRSS Bureau"},
    {"id": "gz-planning", "name_zh": "广州市规划和自然资源局", "name_en": "Guangzhou Planning Bureau"},
]

COORDINATES = [
    {"name": "stop_id", "title_zh": "站点编号", "title_en": "Stop ID", "type": "string"},
    {"name": "name", "title_zh": "站点名称", "title_en": "Name", "type": "string"},
    {"name": "longitude", "title_zh": "经度", "title_en": "Longitude", "type": "number"},
    {"name": "latitude", "title_zh": "纬度", "title_en": "Latitude", "type": "number"},
]
STOPS_CSV = ("stop_id,name,longitude,latitude\n"
             "S001,天河客运站,113.3456,23.1701\nS002,<b>北京路</b>,113.2702,23.1255\n"
             "S003,番禺广场,113.3840,22.9375\nS004,,,\n")
SECRET_CSV = "stop_id,name,longitude,latitude\nK001,机密站点,113.9111,23.4222\n"


def _dataset(id: str, title: str, fields: list[dict[str, Any]], path: str, *, key: bool = True,
             **changes: Any) -> dict[str, Any]:
    raw = {"id": id, "title_zh": title, "title_en": f"{id} (en)", "description_zh": f"{title}。",
           "domain": "交通", "publisher": "gz-transport", "open_level": "unconditional", "tags": ["公交"],
           "update_frequency": "monthly", "licence": "gz-open-data-1.0", "version": "1",
           "resources": [{"id": "table", "title_zh": "表", "format": "csv", "path": path,
                          "fields": copy.deepcopy(fields)}]}
    if key:
        raw["resources"][0]["primary_key"] = fields[0]["name"]
    raw.update(changes)
    return raw


def _masked(mask_lon: str | None, mask_lat: str | None) -> list[dict[str, Any]]:
    fields = copy.deepcopy(COORDINATES)
    if mask_lon:
        fields[2].update(mask=mask_lon, sensitivity="L3")
    if mask_lat:
        fields[3].update(mask=mask_lat, sensitivity="L3")
    return fields


SERIES_FIELDS = [
    {"name": "day", "title_zh": "日期", "title_en": "Day", "type": "date"},
    {"name": "riders", "title_zh": "客流", "title_en": "Riders", "type": "integer", "unit": "人次"},
    {"name": "income", "title_zh": "收入", "title_en": "Income", "type": "decimal", "unit": "元",
     "mask": "keep_first:1", "sensitivity": "L3"},
]
SERIES_CSV = "day,riders,income\n" + "".join(
    f"2024-01-{d:02d},{1000 + d * 37 % 200},{d * 10}.5\n" for d in range(1, 29)) + "2024-01-28,500,1.0\n"


def visuals_manifest() -> dict[str, Any]:
    return {
        "catalogue": {"id": "vis", "title_zh": "可视化目录", "title_en": "Visuals catalogue"},
        "publishers": PUBLISHERS,
        "datasets": [
            _dataset("stops-map", "公交站点位置", COORDINATES, "data/stops.csv", tags=["公交", "地图"]),
            _dataset("stops-masked", "脱敏站点位置", _masked("keep_first:3", None), "data/stops.csv",
                     tags=["地图"]),
            _dataset("stops-dropped", "去掉纬度的站点", _masked(None, "drop"), "data/stops.csv", tags=[],
                     domain="urban"),
            _dataset("stops-licensed", "授权站点位置", COORDINATES, "data/secret.csv", open_level="conditional",
                     licence="gz-authorised-1.0", tags=["公交", "地图"]),
            _dataset("ridership", "每日客流", SERIES_FIELDS, "data/ridership.csv", key=False, tags=["客流"]),
            _dataset("many-stops", "大量站点", COORDINATES, "data/many.csv", tags=[], domain="urban",
                     publisher="gz-planning"),
            _dataset("long-series", "两年客流", SERIES_FIELDS[:2], "data/long.csv", key=False, tags=[],
                     domain="urban", publisher="gz-planning"),
            _dataset("jobs", "就业登记", [{"name": "k", "title_zh": "编号", "type": "string"}], "data/k.csv",
                     domain="social_security", publisher="gz-hrss", tags=["就业"]),
        ],
    }


MANY_ROWS = 1500
MANY_CSV = "stop_id,name,longitude,latitude\n" + "".join(
    f"M{i:05d},{'天河' if i % 3 else '越秀'}{i},{113.2 + i / 10000:.4f},{23.0 + (i % 50) / 500:.4f}\n"
    for i in range(MANY_ROWS))

LONG_DAYS = 500  # more dates than the chart draws one by one: a point per month
LONG_CSV = "day,riders\n" + "".join(f"{date(2023, 1, 1) + timedelta(days=i)},{i}\n" for i in range(LONG_DAYS))

VISUALS_DATA = {"data/many.csv": MANY_CSV, "data/long.csv": LONG_CSV, "data/stops.csv": STOPS_CSV, "data/secret.csv": SECRET_CSV, "data/ridership.csv": SERIES_CSV,
                "data/k.csv": "k\nA\n"}


def visuals_app(folder: Path, database_url: str, only: tuple[str, ...] = ()) -> Any:
    """The portal on this catalogue (``only``: just these datasets)."""
    from opendata import create_app
    from opendata.settings import Settings

    raw = visuals_manifest()
    raw["datasets"] = [d for d in raw["datasets"] if not only or d["id"] in only]
    catalogue = write_catalogue(folder / "cat", raw, VISUALS_DATA)
    return create_app(Settings(data_dir=folder / "data", database_url=database_url, catalogues=(catalogue,),
                               load_catalogues_on_startup=True, secure_cookies=False))


@pytest.fixture(scope="module")
def visuals_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One portal for a whole module (SQLite): the tests read, and write only their own rows."""
    folder = tmp_path_factory.mktemp("visuals")
    with TestClient(visuals_app(folder, f"sqlite:///{folder / 'od.db'}")) as client:
        yield client
