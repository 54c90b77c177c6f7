"""The shared synthetic populations behind the demo: enterprises and insured persons.

Every member is a pure function of (seed, index): ``enterprise(seed, 17)`` is the same
enterprise in the registrations, tax-credit, social-insurance and penalty datasets, and
``enterprise(seed, 2_000_000)`` extends the population without building anything in
memory. Credit codes and ID numbers are unique by construction (an affine bijection of
the index), not by luck.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from statistics import NormalDist
from typing import Any, Final

from . import vocab
from .identifiers import (
    CREDIT_CODE_CHARSET,
    GUANGZHOU_CITY_DISTRICTS_CODE,
    make_credit_code,
    make_resident_id,
)

DEFAULT_SEED: Final = 20241101
REFERENCE_DATE: Final = date(2024, 10, 31)
"""The demo's "today": the last day any generated record refers to."""

BASE_ENTERPRISES: Final = 2000
"""Enterprises in the shipped registrations dataset (indices 0..1999)."""
BASE_PERSONS: Final = 300
"""Insured persons in the shipped personal social-insurance dataset."""

TWO_PLACES: Final = Decimal("0.01")


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible random stream for one purpose.

    Seeding with text hashes it with SHA-512, so the stream does not depend on
    PYTHONHASHSEED, the platform or the Python version.
    """
    return random.Random("opendata-demo:" + ":".join(str(p) for p in (seed, *parts)))


def money(value: float) -> Decimal:
    """A float amount as a Decimal with two places (yuan and fen)."""
    return Decimal(repr(round(value, 2))).quantize(TWO_PLACES)


_SURNAMES: Final = tuple(s for s, _ in vocab.SURNAMES)
_SURNAME_CUM: Final = tuple(accumulate(w for _, w in vocab.SURNAMES))
_DISTRICT_CUM: Final = tuple(accumulate(vocab.DISTRICT_WEIGHTS))


def person_name(rng: random.Random, sex: str | None = None) -> str:
    surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    if sex is None:
        sex = rng.choice("男女")
    pool = vocab.GIVEN_MALE if sex == "男" else vocab.GIVEN_FEMALE
    given = rng.choice(pool) if rng.random() < 0.22 else rng.choice(pool) + rng.choice(pool)
    return surname + given


def pick_district(rng: random.Random) -> vocab.District:
    return rng.choices(vocab.DISTRICT_LIST, cum_weights=_DISTRICT_CUM)[0]


def street_address(rng: random.Random, district: vocab.District) -> str:
    road = rng.choice(district.roads)
    number = int(rng.paretovariate(1.1) * 3) if rng.random() < 0.8 else rng.randint(1, 999)
    number = min(max(number, 1), 1999)
    floor, room = rng.randint(1, 32), rng.randint(1, 30)
    suffix = rng.choices(
        ("", f"{floor}楼", f"{floor}{room:02d}房", f"之{rng.randint(1, 9)}",
         f"（自编{rng.randint(1, 12)}栋）{floor}{room:02d}室", f"{rng.randint(1, 5)}号楼{floor}层"),
        (3, 3, 4, 1, 2, 2),
    )[0]
    return f"广州市{district.name}{road}{number}号{suffix}"


def coordinates(rng: random.Random, district: vocab.District) -> tuple[float, float]:
    lon = district.lon + rng.gauss(0, district.spread)
    lat = district.lat + rng.gauss(0, district.spread * 0.8)
    return round(lon, 6), round(lat, 6)


def phone_number(rng: random.Random) -> str:
    return f"020-{rng.choice('38'):s}{rng.randint(0, 9999999):07d}"


def random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def place_stem(place: str) -> str:
    """石牌街 -> 石牌, 钟落潭镇 -> 钟落潭, 天河北路 -> 天河北."""
    for suffix in ("大道", "街", "镇", "路"):
        if place.endswith(suffix) and len(place) > len(suffix) + 1:
            return place[: -len(suffix)]
    return place


def random_trade_name(rng: random.Random) -> str:
    """Two distinct trade-name characters (for facilities, not the enterprise population)."""
    return "".join(rng.sample(vocab.TRADE_NAME_CHARS, 2))


def weighted(rng: random.Random, pairs: tuple[tuple[Any, float], ...]) -> Any:
    """One of the (value, weight) pairs' values, chosen by weight."""
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


# --- enterprises -------------------------------------------------------------------------------

_PAIRS: Final = len(vocab.TRADE_NAME_CHARS) * (len(vocab.TRADE_NAME_CHARS) - 1)
_MA_SPACE: Final = 31 ** 5
_NEW_CODE_FROM: Final = date(2015, 10, 1)  # credit codes replaced organisation codes then
_YEAR_WEIGHTS: Final = tuple((y, math.exp(0.11 * (y - 1995))) for y in range(1995, 2025))


@dataclass(frozen=True)
class Enterprise:
    index: int
    credit_code: str
    name: str
    legal_representative: str
    enterprise_type: str
    registered_capital: Decimal     # 万元
    established: date
    industry: vocab.Industry
    district: vocab.District
    address: str
    status: str
    status_date: date | None        # when it was deregistered/revoked/moved out
    authority: str
    health: float                   # latent quality, N(0, 1): ratings, penalties, growth
    employees: int                  # insured headcount around the reference date
    wage: float                     # average monthly contribution base (元)

    @property
    def active(self) -> bool:
        return self.status in vocab.ACTIVE_STATUSES

    def active_on(self, day: date) -> bool:
        """Registered and not yet closed on ``day``."""
        if day < self.established:
            return False
        return self.status_date is None or day < self.status_date


def _trade_name(index: int) -> str:
    k = (index * 7919 + 1234) % _PAIRS
    chars = vocab.TRADE_NAME_CHARS
    first, rest = divmod(k, len(chars) - 1)
    second = rest if rest < first else rest + 1
    return chars[first] + chars[second]


def _org_body(index: int, new_style: bool) -> str:
    if not new_style:
        return f"{(index * 7654321 + 58213407) % 10 ** 8:08d}"
    block, _ = divmod(index, _MA_SPACE)
    value = (index * 1000003 + 4242) % _MA_SPACE
    tail = []
    for _ in range(5):
        value, digit = divmod(value, 31)
        tail.append(CREDIT_CODE_CHARSET[digit])
    return "MA" + CREDIT_CODE_CHARSET[(5 + block) % 31] + "".join(reversed(tail))


_LOG_STEPS: Final = tuple(math.log(s) for s in vocab.CAPITAL_STEPS)
_LOG_STEP_MIDPOINTS: Final = tuple((a + b) / 2 for a, b in zip(_LOG_STEPS, _LOG_STEPS[1:]))


def _capital(rng: random.Random, employees: int, kind: str) -> Decimal:
    if kind == "个人独资企业":
        target = rng.choice((1, 3, 5, 10, 10, 20, 50))
    else:
        target = employees * math.exp(rng.gauss(math.log(8), 1.0))
    if rng.random() < 0.12:  # a non-round amount now and then
        return money(max(1.0, target * rng.uniform(0.8, 1.2)))
    # the step nearest to the target on a log scale
    step = vocab.CAPITAL_STEPS[bisect.bisect(_LOG_STEP_MIDPOINTS, math.log(max(target, 1)))]
    return Decimal(step).quantize(TWO_PLACES)


_KIND_CUM: Final = tuple(accumulate(k[3] for k in vocab.ENTERPRISE_TYPES))
_INDUSTRY_CUM: Final = tuple(accumulate(i.weight for i in vocab.INDUSTRIES))
_COOPERATIVE: Final = next(i for i in vocab.INDUSTRIES if i.code == "A0141")
_PARTNERSHIP: Final = next(i for i in vocab.INDUSTRIES if i.code == "L7212")
_RURAL: Final = tuple(vocab.DISTRICT_BY_NAME[d] for d in ("从化区", "增城区", "花都区", "白云区", "南沙区"))
_YEARS: Final = tuple(y for y, _ in _YEAR_WEIGHTS)
_YEAR_CUM: Final = tuple(accumulate(w for _, w in _YEAR_WEIGHTS))
_STATUS_NAMES: Final = tuple(s for s, _ in vocab.ENTERPRISE_STATUSES)
_STATUS_CUM: Final = tuple(accumulate(w for _, w in vocab.ENTERPRISE_STATUSES))


@dataclass(frozen=True)
class Traits:
    """What an enterprise is, drawn cheaply before (and independently of) its details."""

    kind: tuple[str, str, str, float]   # label, credit-code category, name suffix, weight
    industry: vocab.Industry
    district: vocab.District
    health: float


def uniforms(seed: int, *parts: object) -> tuple[float, float, float, float]:
    """Four independent uniforms in (0, 1) from a hash: a tenth of the cost of ``rng_for``."""
    key = "opendata-demo:" + ":".join(str(p) for p in (seed, *parts))
    digest = hashlib.blake2b(key.encode(), digest_size=32).digest()
    return tuple(  # type: ignore[return-value]
        ((int.from_bytes(digest[k:k + 8], "big") >> 11) + 0.5) * 2.0 ** -53 for k in range(0, 32, 8)
    )


_STANDARD_NORMAL: Final = NormalDist()


def traits(seed: int, index: int) -> Traits:
    """Type, industry, district and latent health of enterprise ``index``.

    Cheap on purpose (one hash, no ``random.Random``): sparse datasets such as penalties
    screen millions of enterprises with it and build the full ``enterprise()`` only for
    the few they mention.
    """
    u_kind, u_industry, u_district, u_health = uniforms(seed, "enterprise-traits", index)
    kind = vocab.ENTERPRISE_TYPES[bisect.bisect(_KIND_CUM, u_kind * _KIND_CUM[-1])]
    if kind[0] == "农民专业合作社":
        industry, district = _COOPERATIVE, _RURAL[int(u_district * len(_RURAL))]
    else:
        industry = (_PARTNERSHIP if kind[0] == "有限合伙企业"
                    else vocab.INDUSTRIES[bisect.bisect(_INDUSTRY_CUM, u_industry * _INDUSTRY_CUM[-1])])
        district = vocab.DISTRICT_LIST[bisect.bisect(_DISTRICT_CUM, u_district * _DISTRICT_CUM[-1])]
    return Traits(kind, industry, district, _STANDARD_NORMAL.inv_cdf(u_health))


@lru_cache(maxsize=4096)  # holds the whole base population, bounded at any scale
def enterprise(seed: int, index: int) -> Enterprise:
    """Enterprise number ``index`` of the population drawn with ``seed``."""
    t = traits(seed, index)
    kind, category, suffix, _ = t.kind
    industry, district, health = t.industry, t.district, t.health
    rng = rng_for(seed, "enterprise", index)

    year = rng.choices(_YEARS, cum_weights=_YEAR_CUM)[0]
    established = random_date(rng, date(year, 1, 1), min(date(year, 12, 31), date(2024, 9, 30)))

    cap = 30 if kind in ("个人独资企业", "农民专业合作社") else 12000
    employees = min(cap, int(2 / (1 - rng.random()) ** (1 / 1.15)))
    if kind == "有限合伙企业":
        employees = rng.randint(0, 3)
    wage = industry.wage * math.exp(rng.gauss(0, 0.25) + 0.05 * health)

    trade = _trade_name(index)
    word = rng.choice(industry.words)
    city = "广州市" if rng.random() < 0.3 else "广州"
    if kind == "个人独资企业":
        name = f"广州市{district.name}{trade}{word}{rng.choice(('经营部', '商行', '工作室'))}"
    elif kind == "有限合伙企业":
        name = f"广州{trade}{rng.choice(('股权投资', '创业投资', '投资'))}合伙企业（有限合伙）"
    elif kind == "农民专业合作社":
        name = f"广州市{district.name}{trade}{rng.choice(vocab.COOPERATIVE_CROPS)}专业合作社"
    else:
        name = f"{city}{trade}{word}{suffix}"
    if index >= _PAIRS:  # beyond the trade-name space: tell the namesakes apart by branch
        name += f"（{index // _PAIRS}）"

    status = rng.choices(_STATUS_NAMES, cum_weights=_STATUS_CUM)[0]
    status_date = None
    if status not in vocab.ACTIVE_STATUSES:
        earliest = established + timedelta(days=180)
        if earliest >= REFERENCE_DATE:
            status = "存续"
        else:
            status_date = random_date(rng, earliest, REFERENCE_DATE)

    new_style = established >= _NEW_CODE_FROM
    if new_style and rng.random() < 0.65:
        region = GUANGZHOU_CITY_DISTRICTS_CODE
    else:
        region = district.code
    credit_code = make_credit_code("9", category, region, _org_body(index, new_style))

    if district.name == "南沙区" and rng.random() < 0.3:  # cluster registration addresses
        address = (f"广州市南沙区丰泽东路106号（自编1号楼）X1301-"
                   f"{rng.choice('ABCDEFGHJK')}{rng.randint(1, 9999):04d}（仅限办公）")
    else:
        address = street_address(rng, district)
    authority = (
        "广州市市场监督管理局" if rng.random() < 0.1 else f"广州市{district.name}市场监督管理局"
    )
    return Enterprise(
        index=index,
        credit_code=credit_code,
        name=name,
        legal_representative=person_name(rng),
        enterprise_type=kind,
        registered_capital=_capital(rng, max(employees, 1), kind),
        established=established,
        industry=industry,
        district=district,
        address=address,
        status=status,
        status_date=status_date,
        authority=authority,
        health=health,
        employees=employees,
        wage=wage,
    )


# --- persons -----------------------------------------------------------------------------------

# Where insured persons' ID numbers were issued: Guangzhou districts and common origins of
# people working in Guangzhou (GB/T 2260 codes).
ID_REGIONS: Final = (
    "440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114", "440115",
    "440117", "440118",
    "430102",  # 长沙市芙蓉区
    "431002",  # 郴州市北湖区
    "450102",  # 南宁市兴宁区
    "440902",  # 茂名市茂南区
    "441502",  # 汕尾市城区
    "445202",  # 揭阳市榕城区
    "440803",  # 湛江市霞山区
    "441402",  # 梅州市梅江区
    "360102",  # 南昌市东湖区
    "510104",  # 成都市锦江区
    "420102",  # 武汉市江岸区
    "411302",  # 南阳市宛城区
)
_BIRTH_FROM: Final = date(1966, 1, 1)
_BIRTH_DAYS: Final = (date(2004, 10, 31) - _BIRTH_FROM).days + 1
_ID_SPACE: Final = len(ID_REGIONS) * _BIRTH_DAYS * 1000
_ID_STEP: Final = 2_147_483_647  # prime and larger than the space: a bijection


@dataclass(frozen=True)
class Person:
    index: int
    id_number: str
    name: str
    sex: str
    birth: date
    wage: float   # monthly wage (元) before the contribution base is capped


@lru_cache(maxsize=4096)
def person(seed: int, index: int) -> Person:
    """Insured person number ``index`` (unique ID numbers for the first 3×10⁸ persons)."""
    rng = rng_for(seed, "person", index)
    value = (index * _ID_STEP + (seed * 7 + 12345)) % _ID_SPACE
    value, sequence = divmod(value, 1000)
    region, day = divmod(value, _BIRTH_DAYS)
    birth = _BIRTH_FROM + timedelta(days=day)
    sex = "男" if sequence % 2 else "女"
    return Person(
        index=index,
        id_number=make_resident_id(ID_REGIONS[region], birth, sequence),
        name=person_name(rng, sex),
        sex=sex,
        birth=birth,
        wage=math.exp(rng.gauss(math.log(8200), 0.55)),
    )
