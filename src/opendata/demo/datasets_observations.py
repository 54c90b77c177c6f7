"""Row streams of the observation datasets: daily air quality and wholesale prices.

Endless generators like the facility streams. Scaling adds places rather than days
(more monitoring sub-stations, more wholesale markets), so no date ever leaves 2024.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from itertools import count
from typing import Final

from . import vocab
from .population import money, pick_district, place_stem, rng_for

Row = dict[str, object]


# --- daily air quality (HJ 633-2012 AQI) ----------------------------------------------------------

AIR_STATIONS: Final = (  # the eleven national monitoring stations in Guangzhou
    ("1345A", "广雅中学", "荔湾区", 1.02), ("1346A", "市五中", "海珠区", 1.05),
    ("1347A", "天河职幼", "天河区", 1.08), ("1348A", "广东商学院", "海珠区", 1.03),
    ("1349A", "市监测站", "越秀区", 1.06), ("1350A", "市八十六中", "黄埔区", 1.00),
    ("1351A", "番禺中学", "番禺区", 0.98), ("1352A", "花都师范", "花都区", 0.97),
    ("1353A", "麓湖", "越秀区", 0.92), ("1354A", "帽峰山森林公园", "白云区", 0.78),
    ("1355A", "九龙镇镇龙", "黄埔区", 0.86),
)
AIR_YEAR: Final = 2024
_IAQI: Final = (0, 50, 100, 150, 200, 300, 400, 500)
_BREAKPOINTS: Final = {  # 24-hour means (O3: 8-hour), μg/m³ except CO in mg/m³
    "SO2": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "NO2": (0, 40, 80, 180, 280, 565, 750, 940),
    "PM10": (0, 50, 150, 250, 350, 420, 500, 600),
    "CO": (0, 2, 4, 14, 24, 36, 48, 60),
    "O3": (0, 100, 160, 215, 265, 800),
    "PM2.5": (0, 35, 75, 115, 150, 250, 350, 500),
}
_LEVELS: Final = ((50, "优"), (100, "良"), (150, "轻度污染"), (200, "中度污染"), (300, "重度污染"))


def iaqi(pollutant: str, concentration: float) -> int:
    """Individual air quality index per HJ 633-2012 (capped at 500)."""
    bp = _BREAKPOINTS[pollutant]
    for i in range(1, len(bp)):
        if concentration <= bp[i]:
            low, high = bp[i - 1], bp[i]
            value = (_IAQI[i] - _IAQI[i - 1]) / (high - low) * (concentration - low) + _IAQI[i - 1]
            return math.ceil(value - 1e-9)
    return _IAQI[len(bp) - 1]


def quality_level(aqi: int) -> str:
    for limit, level in _LEVELS:
        if aqi <= limit:
            return level
    return "严重污染"


@lru_cache(maxsize=8)
def _city_weather(seed: int) -> tuple[tuple[float, float], ...]:
    """Per day of the year: (particulate factor, ozone factor), shared by all stations."""
    rng = rng_for(seed, "air-city")
    days = (date(AIR_YEAR + 1, 1, 1) - date(AIR_YEAR, 1, 1)).days
    out, pm, o3 = [], 0.0, 0.0
    for _ in range(days):
        pm = 0.72 * pm + rng.gauss(0, 0.32)
        o3 = 0.65 * o3 + rng.gauss(0, 0.25)
        out.append((math.exp(pm), math.exp(o3)))
    return tuple(out)


def _air_station(seed: int, index: int) -> tuple[str, str, str, float]:
    """The eleven real stations, then (for scaled generation) synthetic sub-stations."""
    if index < len(AIR_STATIONS):
        return AIR_STATIONS[index]
    rng = rng_for(seed, "air-substation", index)
    district = pick_district(rng)
    return (f"GZ{index + 1:05d}", f"{place_stem(rng.choice(district.streets))}子站", district.name,
            round(rng.uniform(0.8, 1.1), 2))


def _analyser_service_days(seed: int, station: int, days: int) -> frozenset[int]:
    """The days a station's SO2 analyser is serviced: two or three visits a year of one to
    three days (drawn apart from the readings, so that the other values stay as they were)."""
    rng = rng_for(seed, "air-analyser-service", station)
    out: set[int] = set()
    for _ in range(rng.randint(2, 3)):
        first = rng.randrange(days)
        out.update(range(first, min(days, first + rng.randint(1, 3))))
    return frozenset(out)


def air_quality_rows(seed: int) -> Iterator[Row]:
    weather = _city_weather(seed)
    start = date(AIR_YEAR, 1, 1)
    for s in count():
        station_id, station_name, district, factor = _air_station(seed, s)
        rng = rng_for(seed, "air-station", s)
        traffic = factor * rng.uniform(0.95, 1.05)
        serviced = _analyser_service_days(seed, s, len(weather))
        for day_index, (pm_factor, o3_factor) in enumerate(weather):
            day = start + timedelta(days=day_index)
            doy = day.timetuple().tm_yday
            winter = math.cos(2 * math.pi * (doy - 15) / 366)          # +1 mid-January
            autumn = math.exp(-((doy - 275) / 55) ** 2)                  # ozone season
            local = math.exp(rng.gauss(0, 0.12))
            pm25 = max(3, round((22 + 11 * winter) * pm_factor * traffic * local))
            pm10 = max(pm25 + 2, round(pm25 * rng.uniform(1.35, 1.9)))
            no2 = max(5, round((30 + 10 * winter) * traffic * pm_factor ** 0.6 * math.exp(rng.gauss(0, 0.15))))
            so2 = max(3, round(7 * pm_factor ** 0.4 * math.exp(rng.gauss(0, 0.2))))
            co = round(max(0.3, 0.75 * pm_factor ** 0.5 * math.exp(rng.gauss(0, 0.12))), 1)
            o3 = max(10, round((58 + 72 * autumn + 12 * (1 - winter)) * o3_factor
                               * (2 - traffic) * math.exp(rng.gauss(0, 0.1))))
            sub = {"PM2.5": iaqi("PM2.5", pm25), "PM10": iaqi("PM10", pm10), "O3": iaqi("O3", o3),
                   "NO2": iaqi("NO2", no2), "SO2": iaqi("SO2", so2), "CO": iaqi("CO", co)}
            if day_index in serviced:  # no SO2 reading that day: the AQI of the other five
                del sub["SO2"]
            aqi = max(sub.values())
            primary = ",".join(p for p, v in sub.items() if v == aqi) if aqi > 50 else None
            yield {
                "station_id": station_id,
                "station_name": station_name,
                "district": district,
                "monitor_date": day,
                "aqi": aqi,
                "quality_level": quality_level(aqi),
                "primary_pollutant": primary,
                "pm25": pm25,
                "pm10": pm10,
                "o3_8h": o3,
                "no2": no2,
                "so2": None if day_index in serviced else so2,
                "co": co,
            }


# --- agricultural wholesale prices ------------------------------------------------------------------

AGRI_MARKETS: Final = (
    ("江南果菜批发市场", vocab.AGRI_PRODUCTS),
    ("黄沙水产交易市场", vocab.AQUATIC_PRODUCTS),
)
AGRI_FIRST_MONDAY: Final = date(2024, 1, 1)
AGRI_WEEKS: Final = 53  # the Mondays of 2024


def agri_price_rows(seed: int) -> Iterator[Row]:
    for m in count():
        if m < len(AGRI_MARKETS):
            market, products = AGRI_MARKETS[m]
        else:
            mrng = rng_for(seed, "agri-market", m)
            district = pick_district(mrng)
            market = f"广州{place_stem(mrng.choice(district.streets))}农副产品批发市场"
            products = vocab.AGRI_PRODUCTS + vocab.AQUATIC_PRODUCTS
        rng = rng_for(seed, "agri", m)
        walk = {p[0]: 0.0 for p in products}
        origin = {p[0]: rng.choice(p[2]) for p in products}
        for week in range(AGRI_WEEKS):
            day = AGRI_FIRST_MONDAY + timedelta(weeks=week)
            for product, category, origins, base, peak, amplitude in products:
                walk[product] = 0.8 * walk[product] + rng.gauss(0, 0.06)
                if rng.random() < 0.1:
                    origin[product] = rng.choice(origins)
                season = 1 + amplitude * math.cos(2 * math.pi * (day.month - peak) / 12)
                avg = base * season * math.exp(walk[product])
                low, high = avg * rng.uniform(0.72, 0.9), avg * rng.uniform(1.1, 1.35)
                yield {
                    "market_name": market,
                    "price_date": day,
                    "product_name": product,
                    "category": category,
                    "origin": origin[product],
                    "min_price": money(low),
                    "avg_price": money(avg),
                    "max_price": money(high),
                    "volume_tonnes": round(rng.uniform(5, 120) * (3 if category == "蔬菜" else 1), 1),
                }
