"""The open-data index: figures per department and domain, drawn as inline SVG."""

from __future__ import annotations

import re
from types import SimpleNamespace

from litestar.testing import TestClient

from opendata.portal import charts
from opendata.portal.index_data import OPTIONAL_METADATA, completeness


def test_index_page_draws_the_figures(client: TestClient) -> None:
    for _ in range(3):
        client.get("/api/v1/datasets/bus-stops/resources/stops/download?format=csv")
    client.get("/api/v1/datasets/bus-stops/resources/stops/rows")
    html = client.get("/open-index").text
    assert html.count("<svg class=\"chart\"") == 8
    mix = html.split('data-testid="chart-publisher-mix"')[1].split("</svg>")[0]
    assert "广州市人力资源和社会保障局 · 有条件开放: 2" in mix and "广州市交通运输局 · 无条件开放: 1" in mix
    downloads = html.split("各部门下载次数</h2>")[1].split("</svg>")[0]
    assert "广州市交通运输局: 3" in downloads
    api = html.split("各部门接口调用次数</h2>")[1].split("</svg>")[0]
    assert "广州市交通运输局: 1" in api
    table = html.split('data-testid="index-table"')[1].split("</table>")[0]
    assert re.search(r"广州市交通运输局</a></td><td>1</td><td>1</td><td>0</td><td>0</td><td>3</td><td>1</td>", table)
    english = client.get("/open-index?lang=en&days=30").text
    assert "Datasets per department, by open level" in english and "Guangzhou Transport Bureau" in english
    assert 'aria-current="true" class="current">last 30 days<' in english


def test_completeness_counts_optional_metadata() -> None:
    empty = SimpleNamespace(tag_names=[], **{name: None for name in OPTIONAL_METADATA if name != "tags"})
    assert completeness(empty) == 0
    half = SimpleNamespace(**vars(empty))
    for name in OPTIONAL_METADATA[:7]:
        setattr(half, name, "x")
    assert completeness(half) == 0.5


def test_bar_chart_escapes_labels_and_scales_bars() -> None:
    svg = str(charts.bar_chart([charts.Bar("<b>甲</b>", 10), charts.Bar("乙", 5)], title="标题 & 说明"))
    assert "<b>" not in svg and "&lt;b&gt;甲&lt;/b&gt;" in svg and "标题 &amp; 说明" in svg
    widths = [float(w) for w in re.findall(r'class="chart-bar" x="\d+" y="\d+" width="([\d.]+)"', svg)]
    assert widths[0] == 2 * widths[1] > 0
    long = str(charts.bar_chart([charts.Bar("广州市人力资源和社会保障局下属单位名称很长", 1)], title="t"))
    assert "…" in long and "广州市人力资源和社会保障局下属单位名称很长: 1" in long  # full name in the tooltip
