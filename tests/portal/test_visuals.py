"""The dataset page's map and line chart: drawn from what the rows API serves (open data,
masks, dropped fields, the page's filter), bounded, accessible, in zh and en."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from opendata.portal.line_chart import time_ticks
from opendata.portal.svg_map import MapPoint, frame_for, nice_step, scale_bar
from opendata.portal.visuals import MAP_POINTS
from tests.conftest import postgres_schema_url
from tests.portal.helpers import register_enterprise
from tests.portal.visuals_catalogue import MANY_ROWS, visuals_app, visuals_client  # noqa: F401  (fixture)


def section(html: str, testid: str) -> str:
    found = re.search(rf'<section class="panel" id="\w+" data-testid="{testid}">(.*?)</section>', html, re.S)
    assert found, f"no {testid} section"
    return found.group(1)


def test_a_table_with_coordinates_gets_a_map_with_tooltips_a_scale_and_a_table(visuals_client: Any) -> None:
    page = visuals_client.get("/datasets/stops-map?lang=zh")
    assert page.status_code == 200
    drawn = section(page.text, "map")
    assert drawn.count('<circle class="map-point"') == 3  # S004 has no coordinates
    assert "显示全部 3 个点。" in drawn and "不含行政区划边界" in drawn
    assert "<title>天河客运站 — 113.346, 23.1701</title>" in drawn
    assert "&lt;b&gt;北京路&lt;/b&gt;" in drawn and "<b>北京路</b>" not in page.text  # a label is text
    assert re.search(r'class="map-tick map-tick-x"[^>]*>113\.\d+°E<', drawn)
    assert re.search(r'class="map-tick map-tick-y"[^>]*>2[23]\.\d+°N<', drawn)
    assert re.search(r'class="map-scale-label"[^>]*>\d+ km<', drawn)
    assert 'role="img" aria-labelledby="map-title map-desc"' in drawn and "按经度和纬度绘制" in drawn
    table = re.search(r'<table class="data-table" data-testid="map-table">(.*?)</table>', drawn, re.S).group(1)
    assert table.count("<tr>") == 4 and "<td>113.384</td>" in table  # header + 3 points
    assert "style=" not in drawn and "<script" not in drawn  # the CSP: classes only
    english = section(visuals_client.get("/datasets/stops-map?lang=en").text, "map")
    assert "All 3 points shown." in english and "The points as a table" in english
    assert "drawn by Longitude and Latitude" in english


def test_the_map_follows_the_page_filter_and_a_bad_filter_draws_nothing(visuals_client: Any) -> None:
    drawn = section(visuals_client.get("/datasets/stops-map?field=stop_id&op=eq&value=S003").text, "map")
    assert drawn.count('<circle class="map-point"') == 1 and "番禺广场" in drawn
    bad = visuals_client.get("/datasets/stops-map?field=longitude&op=gt&value=east")
    assert bad.status_code == 400 and 'data-testid="map"' not in bad.text and 'role="alert"' in bad.text


def test_many_points_are_sampled_evenly_and_bounded(visuals_client: Any) -> None:
    drawn = section(visuals_client.get("/datasets/many-stops?lang=zh").text, "map")
    count = drawn.count('<circle class="map-point"')
    assert count == MAP_POINTS < MANY_ROWS
    assert f"从 {MANY_ROWS:,} 个点中均匀抽样" in drawn
    longitudes = [float(x) for x in re.findall(r"— ([\d.]+), [\d.]+</title>", drawn)]
    assert min(longitudes) < 113.21 and max(longitudes) > 113.34  # spread over the whole table
    filtered = section(visuals_client.get("/datasets/many-stops?lang=zh&field=name&op=contains&value=越秀").text, "map")
    assert filtered.count('<circle class="map-point"') == 500 and "显示全部 500 个点" in filtered
    table = re.search(r'data-testid="map-table">(.*?)</table>', drawn, re.S).group(1)
    assert table.count("<tr>") == 101  # the table lists the first 100; the downloads have all


def test_a_masked_or_dropped_coordinate_is_never_drawn(visuals_client: Any) -> None:
    masked = visuals_client.get("/datasets/stops-masked").text
    assert 'data-testid="preview"' in masked and 'data-testid="map"' not in masked
    assert "map-point" not in masked
    dropped = visuals_client.get("/datasets/stops-dropped").text
    assert 'data-testid="preview"' in dropped and 'data-testid="map"' not in dropped
    assert "23.1701" not in dropped


def test_a_conditional_datasets_coordinates_are_not_drawn(visuals_client: Any) -> None:
    anonymous = visuals_client.get("/datasets/stops-licensed").text
    assert 'data-testid="map"' not in anonymous and "map-point" not in anonymous
    assert "113.9111" not in anonymous and "机密站点" not in anonymous
    assert visuals_client.get("/datasets/stops-licensed?field=stop_id&value=K001").text.count("113.9111") == 0
    register_enterprise(visuals_client, "mapco")  # signed in, no licence: the same
    signed_in = visuals_client.get("/datasets/stops-licensed").text
    assert "113.9111" not in signed_in and "map-point" not in signed_in
    visuals_client.cookies.clear()


def test_a_date_series_gets_a_line_chart_with_labelled_axes(visuals_client: Any) -> None:
    page = visuals_client.get("/datasets/ridership?lang=zh")
    chart = section(page.text, "series")
    assert 'role="img" aria-labelledby="series-title series-desc"' in chart
    assert chart.count('<polyline class="chart-line"') == 1  # riders; income is masked: not drawn
    assert "收入" not in chart and "客流 (人次)" in chart
    assert re.search(r'class="chart-tick chart-tick-x"[^>]*>2024-01-01<', chart)
    assert re.search(r'class="chart-tick chart-tick-x"[^>]*>01-\d\d<', chart)
    assert re.findall(r'class="chart-axis"[^>]*>([\d,]+)<', chart)[:2] == ["1,000", "1,200"]
    # 2024-01-28 has two rows: added up (1000 + 28 * 37 % 200 = 1036, + 500), and the page says so.
    assert "<title>客流 (人次) · 2024-01-28: 1,536</title>" in chart and "同一日期的多行取合计" in chart
    assert "客流 (人次): 28 × 2024-01-01 – 2024-01-28" in chart  # the description for screen readers
    rows = re.search(r'data-testid="series-table">(.*?)</table>', chart, re.S).group(1)
    assert rows.count("<tr>") == 29 and "<td>2024-01-28</td><td>1,536</td>" in rows
    mean = section(visuals_client.get("/datasets/ridership?chart_agg=avg&lang=en").text, "series")
    assert "<title>Riders (人次) · 2024-01-28: 768</title>" in mean and "Rows of the same date are averaged" in mean
    fallback = section(visuals_client.get("/datasets/ridership?chart_agg=%3Cscript%3E").text, "series")
    assert "1,536" in fallback  # an unknown aggregate is the sum
    assert 'data-testid="series"' not in visuals_client.get("/datasets/stops-map").text  # no date: no chart


def test_round_steps_scale_bar_and_time_ticks() -> None:
    assert [nice_step(s) for s in (0.07, 1, 23, 480)] == [0.02, 0.2, 5, 100]
    frame = frame_for([MapPoint(113.2, 23.0, ""), MapPoint(113.5, 23.2, "")])
    length, label = scale_bar(frame)
    assert label == "10 km" and 60 < length < 200
    assert time_ticks(date(2024, 1, 1), date(2024, 1, 28))[:2] == [(date(2024, 1, 1), "2024-01-01"),
                                                                   (date(2024, 1, 6), "01-06")]
    assert [label for _, label in time_ticks(date(2023, 11, 15), date(2024, 6, 1))][:2] == ["2023-12", "2024-01"]
    assert [label for _, label in time_ticks(date(2001, 5, 1), date(2024, 6, 1))] == ["2005", "2010", "2015", "2020"]


def month_points(html: str) -> list[str]:
    return re.findall(r"<title>Riders \(人次\) · (\d{4}-\d\d-\d\d): ([\d,]+)</title>", html)


def test_more_dates_than_drawn_become_one_point_per_month(visuals_client: Any) -> None:
    chart = section(visuals_client.get("/datasets/long-series?lang=en").text, "series")
    points = month_points(chart)
    assert len(points) == 17 and points[0] == ("2023-01-01", f"{sum(range(31)):,}")  # January: days 0..30
    assert "Too many dates: one point per month." in chart
    assert re.search(r'class="chart-tick chart-tick-x"[^>]*>2023-\d\d<', chart)


@pytest.mark.postgres
def test_map_sampling_and_monthly_series_on_postgresql(tmp_path: Path) -> None:
    with postgres_schema_url() as url, TestClient(visuals_app(tmp_path, url, ("many-stops", "long-series", "ridership"))) as client:
        drawn = section(client.get("/datasets/many-stops?lang=en").text, "map")
        assert drawn.count('<circle class="map-point"') == MAP_POINTS
        chart = section(client.get("/datasets/long-series?lang=en").text, "series")
        assert len(month_points(chart)) == 17 and month_points(chart)[0] == ("2023-01-01", "465")
        daily = section(client.get("/datasets/ridership?lang=en").text, "series")
        assert "<title>Riders (人次) · 2024-01-28: 1,536</title>" in daily
