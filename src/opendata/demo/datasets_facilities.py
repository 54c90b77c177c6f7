"""Row streams of the facility directories: bus stops, medical institutions, schools,
public libraries and public parking.

Each ``*_rows(seed)`` function is an endless generator: the shipped file is a prefix of
it, and asking for more rows continues the same stream (more stops, more schools…)
without ever holding more than one row in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import count
from typing import Final

from . import vocab
from .population import (
    BASE_ENTERPRISES,
    TWO_PLACES,
    coordinates,
    enterprise,
    money,
    person_name,
    phone_number,
    pick_district,
    place_stem,
    random_date,
    random_trade_name,
    rng_for,
    street_address,
    weighted,
)

Row = dict[str, object]


# --- bus stops ----------------------------------------------------------------------------------

def bus_stop_rows(seed: int) -> Iterator[Row]:
    for k in count():
        rng = rng_for(seed, "bus-stop", k)
        district = pick_district(rng)
        road = rng.choice(district.roads)
        street = rng.choice(district.streets)
        pattern = rng.random()
        if pattern < 0.35:
            name = road + rng.choice(vocab.STOP_SUFFIXES)
        elif pattern < 0.7:
            name = place_stem(street) + rng.choice(vocab.STOP_LANDMARKS)
        else:
            name = place_stem(road) + rng.choice(vocab.STOP_LANDMARKS) + rng.choice(("", "", "站", "总站"))
        is_terminal = name.endswith("总站")
        n_routes = min(28, 1 + int(rng.paretovariate(1.4)))
        routes: set[str] = set()
        while len(routes) < n_routes:
            routes.add(rng.choice(vocab.BUS_LINES_SPECIAL) if rng.random() < 0.08
                       else f"{rng.randint(1, 999)}路")
        lon, lat = coordinates(rng, district)
        yield {
            "stop_id": f"GZB{k + 1:06d}",
            "stop_name": name,
            "district": district.name,
            "road": road,
            "longitude": lon,
            "latitude": lat,
            "routes": "、".join(sorted(routes, key=lambda r: (len(r), r))),
            "route_count": n_routes,
            "has_shelter": rng.random() < 0.78,
            "is_terminal": is_terminal,
        }


# --- medical institutions ----------------------------------------------------------------------

_MEDICAL_CATEGORIES: Final = (
    ("诊所", 38), ("门诊部", 20), ("社区卫生服务中心", 16), ("综合医院", 12), ("专科医院", 9),
    ("中医医院", 3), ("妇幼保健院", 2),
)
_BEDS: Final = {"三级甲等": (900, 3200), "三级乙等": (600, 1500), "三级": (500, 1200),
                "二级甲等": (250, 800), "二级": (100, 500), "一级": (20, 99), "未定级": (0, 30)}


def medical_institution_rows(seed: int) -> Iterator[Row]:
    for k in count():
        rng = rng_for(seed, "medical", k)
        district = pick_district(rng)
        category = weighted(rng, _MEDICAL_CATEGORIES)
        street = rng.choice(district.streets)
        public = False
        if category == "社区卫生服务中心":
            public = True
            if street.endswith("镇"):
                name, category = f"广州市{district.name}{street}卫生院", "乡镇卫生院"
            else:
                name = f"广州市{district.name}{street}社区卫生服务中心"
            grade = "一级" if rng.random() < 0.8 else "未定级"
        elif category == "诊所":
            kind = rng.choice(("中医", "口腔", "西医内科", "全科", "中西医结合", "皮肤科"))
            name = f"广州{district.name[:-1]}{person_name(rng)}{kind}诊所"
            grade = "未定级"
        elif category == "门诊部":
            name = f"广州{random_trade_name(rng)}{rng.choice(('口腔', '中医', '综合', '医疗美容', '健康体检'))}门诊部"
            grade = "未定级"
        elif category == "综合医院":
            public = rng.random() < 0.55
            if public:
                name = f"广州市{district.name}{rng.choice(('人民医院', '第二人民医院', '中心医院', '红十字会医院', place_stem(street) + '医院'))}"
                grade = weighted(rng, (("三级甲等", 2), ("三级", 1), ("二级甲等", 4), ("二级", 2), ("一级", 1)))
            else:
                name = f"广州{random_trade_name(rng)}医院"
                grade = weighted(rng, (("二级", 3), ("一级", 4), ("未定级", 3)))
        elif category == "专科医院":
            public = rng.random() < 0.35
            specialty = rng.choice(("口腔", "眼科", "妇产", "骨科", "皮肤病", "康复", "精神专科", "儿童", "肿瘤"))
            prefix = f"广州市{district.name}" if public else f"广州{random_trade_name(rng)}"
            name = f"{prefix}{specialty}医院"
            grade = weighted(rng, (("三级", 1), ("二级", 3), ("一级", 3), ("未定级", 2)))
        elif category == "中医医院":
            public = rng.random() < 0.6
            name = f"广州市{district.name}中医医院" if public else f"广州{random_trade_name(rng)}中医医院"
            grade = weighted(rng, (("三级甲等", 1), ("二级甲等", 3), ("二级", 2), ("一级", 2)))
        else:
            public = True
            name = f"广州市{district.name}妇幼保健院"
            grade = weighted(rng, (("三级甲等", 1), ("二级甲等", 2), ("二级", 1)))
        low, high = _BEDS[grade]
        beds = 0 if category in ("诊所", "门诊部") else rng.randint(low, high)
        if category == "社区卫生服务中心":
            beds = rng.choice((0, 0, 20, 30, 40, 50))
        lon, lat = coordinates(rng, district)
        yield {
            "institution_id": f"GZWJ{k + 1:06d}",
            "name": name,
            "category": category,
            "grade": grade,
            "ownership": "公立" if public else "民营",
            "district": district.name,
            "address": street_address(rng, district),
            "phone": phone_number(rng),
            "beds": beds,
            "insurance_designated": public or rng.random() < 0.55,
            "longitude": lon,
            "latitude": lat,
        }


# --- schools -----------------------------------------------------------------------------------

_STAGES: Final = (
    ("幼儿园", 40), ("小学", 30), ("初级中学", 9), ("完全中学", 5), ("高级中学", 4),
    ("九年一贯制学校", 5), ("中等职业学校", 3), ("特殊教育学校", 1),
)
_STAGE_WORD: Final = {"幼儿园": "幼儿园", "小学": "小学", "初级中学": "中学", "完全中学": "中学",
                      "高级中学": "高级中学", "九年一贯制学校": "实验学校", "中等职业学校": "职业技术学校",
                      "特殊教育学校": "启智学校"}
# stage -> (classes low, high, pupils per class low, high, pupils per teacher, area per pupil m²)
_STAGE_SIZE: Final = {
    "幼儿园": (3, 18, 25, 35, 7, 12), "小学": (12, 48, 38, 48, 17, 8), "初级中学": (12, 36, 42, 50, 13, 12),
    "完全中学": (24, 60, 42, 50, 12, 18), "高级中学": (18, 54, 45, 52, 12, 22),
    "九年一贯制学校": (18, 54, 40, 48, 14, 12), "中等职业学校": (20, 80, 35, 45, 16, 25),
    "特殊教育学校": (6, 20, 8, 12, 4, 40),
}


def school_rows(seed: int) -> Iterator[Row]:
    for k in count():
        rng = rng_for(seed, "school", k)
        district = pick_district(rng)
        stage = weighted(rng, _STAGES)
        private_share = {"幼儿园": 0.45, "小学": 0.15, "中等职业学校": 0.3}.get(stage, 0.1)
        private = rng.random() < private_share
        if private:
            stem = random_trade_name(rng) + rng.choice(("", "", "外国语", "双语", "实验"))
        else:
            stem = rng.choice((place_stem(rng.choice(district.streets)), place_stem(rng.choice(district.roads)),
                               rng.choice(vocab.SCHOOL_NAME_STEMS)))
            if rng.random() < 0.12:
                stem += rng.choice(("第一", "第二", "第三"))
        name = f"广州市{district.name}{stem}{_STAGE_WORD[stage]}"
        c_low, c_high, p_low, p_high, ratio, area = _STAGE_SIZE[stage]
        classes = rng.randint(c_low, c_high)
        students = sum(rng.randint(p_low, p_high) for _ in range(classes))
        founded = rng.randint(1950, 2023) if stage != "幼儿园" else rng.randint(1980, 2023)
        yield {
            "school_id": f"2144{k + 1:06d}",
            "name": name,
            "stage": stage,
            "ownership": "民办" if private else "公办",
            "district": district.name,
            "address": street_address(rng, district),
            "phone": phone_number(rng),
            "founded_year": founded,
            "campus_area": money(students * area * rng.uniform(0.6, 1.6)),
            "class_count": classes,
            "student_count": students,
            "teacher_count": max(3, round(students / ratio * rng.uniform(0.85, 1.15))),
            "boarding": rng.random() < {"高级中学": 0.75, "完全中学": 0.5, "中等职业学校": 0.6,
                                        "特殊教育学校": 0.4}.get(stage, 0.03),
            "license_valid_until": random_date(rng, date(2025, 1, 1), date(2029, 12, 31)),
        }


# --- public libraries ------------------------------------------------------------------------------

def library_rows(seed: int) -> Iterator[Row]:
    fixed = [("广州图书馆", "中心馆", vocab.DISTRICT_BY_NAME["天河区"])]
    fixed += [(f"广州市{d.name}图书馆", "区总馆", d) for d in vocab.DISTRICT_LIST]
    for k in count():
        rng = rng_for(seed, "library", k)
        if k < len(fixed):
            name, kind, district = fixed[k]
        else:
            district = pick_district(rng)
            street = rng.choice(district.streets)
            kind = weighted(rng, (("镇街分馆", 5), ("村居服务点", 3), ("自助图书馆", 2)))
            if kind == "镇街分馆":
                name = f"{district.name}图书馆{street}分馆"
            elif kind == "村居服务点":
                name = f"{district.name}图书馆{place_stem(street)}{rng.choice(vocab.LIBRARY_COMMUNITIES)}服务点"
            else:
                name = f"{place_stem(rng.choice(district.roads))}24小时自助图书馆"
        area = {"中心馆": (98000, 100000), "区总馆": (6000, 30000), "镇街分馆": (300, 2500),
                "村居服务点": (60, 400), "自助图书馆": (15, 60)}[kind]
        floor_area = rng.uniform(*area)
        volumes = int(floor_area * rng.uniform(25, 60)) if kind != "中心馆" else rng.randint(10_000_000, 11_500_000)
        open_24h = kind == "自助图书馆"
        lon, lat = coordinates(rng, district)
        yield {
            "library_id": f"GZLIB{k + 1:05d}",
            "name": name,
            "library_type": kind,
            "district": district.name,
            "address": street_address(rng, district),
            "floor_area": money(floor_area),
            "collection_volumes": volumes,
            "seats": max(4, int(floor_area / rng.uniform(4, 9))) if kind != "自助图书馆" else 0,
            "weekly_open_hours": 168 if open_24h else rng.choice((56, 63, 66, 70, 72, 84)),
            "open_24h": open_24h,
            "phone": phone_number(rng),
            "longitude": lon,
            "latitude": lat,
        }


# --- public parking -----------------------------------------------------------------------------

_LOT_TYPES: Final = (("路外公共停车场", 35), ("建筑物配建停车场", 35), ("路内临时泊位", 20), ("立体机械停车库", 10))
_SNAPSHOT: Final = datetime(2024, 10, 31, 8, 0, 0)


@lru_cache(maxsize=8)
def _operators(seed: int) -> tuple[str, ...]:
    names = tuple(
        e.name for i in range(BASE_ENTERPRISES)
        if (e := enterprise(seed, i)).industry.code == "K7020" and e.active
    )
    return names or ("广州市停车场管理有限公司",)


def parking_rows(seed: int) -> Iterator[Row]:
    operators = _operators(seed)
    for k in count():
        rng = rng_for(seed, "parking", k)
        district = pick_district(rng)
        kind = weighted(rng, _LOT_TYPES)
        road = rng.choice(district.roads)
        if kind == "路内临时泊位":
            name = f"{road}{rng.choice(('', '东段', '西段', '南段', '北段', '中段'))}路内停车泊位"
            spaces = rng.randint(6, 60)
        else:
            place = rng.choice((place_stem(rng.choice(district.streets)), place_stem(road), random_trade_name(rng)))
            name = f"{place}{rng.choice(vocab.PARKING_PLACES)}{'立体' if kind == '立体机械停车库' else ''}停车场"
            spaces = min(3000, int(40 * rng.paretovariate(1.3)))
        ev = int(spaces * rng.choice((0, 0.05, 0.1, 0.15, 0.25))) if kind != "路内临时泊位" else 0
        busy = min(0.99, max(0.05, rng.gauss(0.55 if district.name in ("天河区", "越秀区") else 0.4, 0.2)))
        rate = Decimal(rng.choice(("5", "6", "8", "10", "12", "15", "20")) if district.name in ("天河区", "越秀区")
                       else rng.choice(("2", "3", "4", "5", "6", "8", "10"))).quantize(TWO_PLACES)
        lon, lat = coordinates(rng, district)
        yield {
            "parking_id": f"GZP{k + 1:06d}",
            "name": name,
            "lot_type": kind,
            "district": district.name,
            "address": street_address(rng, district),
            "total_spaces": spaces,
            "ev_charging_spaces": ev,
            "available_spaces": int(spaces * (1 - busy)),
            "first_hour_rate": rate,
            "open_24h": kind != "路内临时泊位" and rng.random() < 0.7,
            "operator": "广州市道路停车管理有限公司" if kind == "路内临时泊位" else rng.choice(operators),
            "updated_at": _SNAPSHOT + timedelta(seconds=rng.randint(0, 3599)),
            "longitude": lon,
            "latitude": lat,
        }
