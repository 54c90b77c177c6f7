"""Row streams of the enterprise and personal datasets, all over one shared population.

(Construction permits live here too: their developers and contractors are enterprises of
the same population.)

Each ``*_rows(seed, enterprises)`` walks the enterprise population in index order and
stops after ``enterprises`` members (``None``: never). The shipped files walk the base
population (``BASE_ENTERPRISES``), so every credit code they mention is in the
registrations file; walking further extends all datasets over the same new enterprises.
Which enterprises a dataset covers, and what it says about them, is drawn from a stream
keyed by (dataset, enterprise index), so a dataset's prefix never depends on how far it
is read.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate, count
from typing import Final

from . import vocab
from .population import (
    BASE_ENTERPRISES,
    REFERENCE_DATE,
    TWO_PLACES,
    Enterprise,
    enterprise,
    money,
    person,
    pick_district,
    place_stem,
    random_date,
    rng_for,
    street_address,
    traits,
    uniforms,
)

Row = dict[str, object]


def _indices(enterprises: int | None) -> Iterator[int]:
    return iter(range(enterprises)) if enterprises is not None else count()


# --- registrations ---------------------------------------------------------------------------

def registration_rows(seed: int, enterprises: int | None) -> Iterator[Row]:
    for i in _indices(enterprises):
        e = enterprise(seed, i)
        yield {
            "credit_code": e.credit_code,
            "enterprise_name": e.name,
            "legal_representative": e.legal_representative,
            "enterprise_type": e.enterprise_type,
            "registered_capital": e.registered_capital,
            "establishment_date": e.established,
            "industry_code": e.industry.code,
            "industry_name": e.industry.name,
            "district": e.district.name,
            "address": e.address,
            "business_status": e.status,
            "registration_authority": e.authority,
        }


# --- tax-credit ratings (纳税信用等级) ------------------------------------------------------------

RATING_YEARS: Final = (2021, 2022, 2023)


def _tax_office(e: Enterprise) -> str:
    return f"国家税务总局广州市{e.district.name}税务局"


def tax_credit_rows(seed: int, enterprises: int | None) -> Iterator[Row]:
    for i in _indices(enterprises):
        e = enterprise(seed, i)
        rng = rng_for(seed, "tax-credit", i)
        if rng.random() > 0.85:  # not assessed (e.g. exempt or not registered for tax here)
            continue
        for year in RATING_YEARS:
            if e.established > date(year, 12, 31) or not e.active_on(date(year, 12, 31)):
                continue
            score = 82 + 7 * e.health + 0.6 * (year - 2021) + rng.gauss(0, 4)
            score = min(100.0, max(11.0, score))
            if e.established.year == year:
                rating = "M"  # 新设立企业
                score = min(max(score, 70.0), 89.9)
            elif rng.random() < 0.015 + 0.02 * max(0.0, -e.health - 1):
                rating, score = "D", min(score, 39.9) if score < 40 else rng.uniform(11, 39.9)
            elif score >= 90:
                rating = "A"
            elif score >= 70:
                rating = "B"
            elif score >= 40:
                rating = "C"
            else:
                rating = "D"
            yield {
                "credit_code": e.credit_code,
                "enterprise_name": e.name,
                "year": year,
                "rating": rating,
                "score": Decimal(f"{score:.1f}"),
                "tax_authority": _tax_office(e),
            }


# --- enterprise social-insurance headcounts --------------------------------------------------------

SI_MONTHS: Final = tuple(date(2023 + (10 + m) // 12, (10 + m) % 12 + 1, 1) for m in range(12))
"""2023-11-01 … 2024-10-01: the twelve months the social-insurance datasets cover."""
SI_CONTRIBUTION_RATE: Final = 0.32  # employer + employee, all insurances, roughly
# Illustrative contribution base floor and ceiling (元/月), adjusted every July; these are
# demo constants, not the official Guangzhou figures.
SI_BASE_LIMITS: Final = ((date(2023, 7, 1), 4588, 26421), (date(2024, 7, 1), 4775, 27501))


def base_limits(month: date) -> tuple[int, int]:
    floor, ceiling = SI_BASE_LIMITS[0][1:]
    for since, low, high in SI_BASE_LIMITS:
        if month >= since:
            floor, ceiling = low, high
    return floor, ceiling


@dataclass(frozen=True)
class _SiProfile:
    growth: float   # monthly log growth of the headcount
    noise: float


def _si_profile(seed: int, e: Enterprise) -> _SiProfile | None:
    """Whether the enterprise is in the social-insurance data, and how its headcount moves."""
    rng = rng_for(seed, "si", e.index)
    if not e.active or e.employees < 1 or rng.random() > 0.5:
        return None
    return _SiProfile(growth=0.008 * e.health + rng.gauss(0, 0.01), noise=rng.random())


def headcount_rows(seed: int, enterprises: int | None) -> Iterator[Row]:
    for i in _indices(enterprises):
        e = enterprise(seed, i)
        profile = _si_profile(seed, e)
        if profile is None:
            continue
        rng = rng_for(seed, "si-months", i)
        for t, month in enumerate(SI_MONTHS):
            if month < e.established.replace(day=1):
                continue
            expected = e.employees * math.exp(-profile.growth * (len(SI_MONTHS) - 1 - t))
            if month.month == 2:
                expected *= 0.97  # leavers around the Spring Festival
            spread = 0.01 + 0.25 / math.sqrt(e.employees)
            headcount = max(1, round(expected * math.exp(rng.gauss(0, spread))))
            floor, ceiling = base_limits(month)
            base = min(ceiling, max(floor, e.wage * (1.04 if month >= date(2024, 7, 1) else 1.0)))
            total = headcount * base * SI_CONTRIBUTION_RATE * rng.uniform(0.96, 1.04)
            yield {
                "credit_code": e.credit_code,
                "month": month,
                "headcount": headcount,
                "contribution_total": money(total),
            }


# --- administrative penalties ------------------------------------------------------------------

_PENALTY_FROM: Final = date(2022, 1, 1)


def _penalty_amount(rng, kind: str) -> Decimal:
    if kind == "警告":
        return Decimal("0.00")
    fine = max(500.0, round(math.exp(rng.gauss(math.log(8000), 1.1)), -2))
    if kind.startswith("责令"):
        fine = max(30000.0, round(fine * 5, -3))
    if kind.startswith("没收违法所得"):
        fine += rng.uniform(200, 50000)
    return money(fine)


def penalty_rows(seed: int, enterprises: int | None) -> Iterator[Row]:
    serial = 0
    for i in _indices(enterprises):
        t = traits(seed, i)  # cheap screening: most enterprises have no penalty
        rate = 0.075 * t.industry.penalty_risk * math.exp(-0.7 * t.health)
        threshold = uniforms(seed, "penalty-count", i)[0]
        n, p = 0, math.exp(-rate)  # Poisson by inversion
        cumulative = p
        while threshold > cumulative and n < 4:
            n += 1
            p *= rate / n
            cumulative += p
        if n == 0:
            continue
        e = enterprise(seed, i)
        rng = rng_for(seed, "penalty", i)
        earliest = max(_PENALTY_FROM, e.established + timedelta(days=60))
        latest = min(REFERENCE_DATE, e.status_date or REFERENCE_DATE)
        if earliest > latest:
            continue
        dates = sorted(random_date(rng, earliest, latest) for _ in range(n))
        for decided in dates:
            reason, basis, kinds = rng.choice(vocab.PENALTY_CASES)
            kind = rng.choice(kinds)
            serial += 1
            short = e.district.short if e.authority != "广州市市场监督管理局" else ""
            yield {
                "decision_no": f"穗{short}市监处罚〔{decided.year}〕{serial}号",
                "credit_code": e.credit_code,
                "enterprise_name": e.name,
                "penalty_type": kind,
                "amount": _penalty_amount(rng, kind),
                "decision_date": decided,
                "reason": reason.format(
                    food=rng.choice(vocab.FOODS), item=rng.choice(vocab.TEST_ITEMS),
                    claim=rng.choice(vocab.CLAIMS), value=f"{rng.uniform(300, 60000):,.2f}",
                    year=decided.year - 1, count=rng.randint(3, 120),
                    device=f"3110440{rng.randint(10 ** 12, 10 ** 13 - 1)}",
                    service=rng.choice(vocab.UNLICENSED_SERVICES),
                ),
                "legal_basis": basis,
                "authority": e.authority,
            }


# --- enterprise tax payments (closed) ------------------------------------------------------------

PAYMENT_YEARS: Final = (2022, 2023)


def tax_payment_rows(seed: int, enterprises: int | None) -> Iterator[Row]:
    for i in _indices(enterprises):
        e = enterprise(seed, i)
        rng = rng_for(seed, "tax-payment", i)
        if rng.random() > 0.9:
            continue
        for year in PAYMENT_YEARS:
            if e.established >= date(year, 1, 1) or not e.active_on(date(year, 12, 31)):
                continue
            revenue = (max(1, e.employees) * e.industry.revenue_per_head * 10_000
                       * math.exp(rng.gauss(0.1 * e.health, 0.45)) * (1.05 if year == 2023 else 1.0))
            vat = revenue * (0.01 if revenue < 5_000_000 else rng.uniform(0.015, 0.045))
            margin = min(0.35, max(-0.2, 0.06 + 0.03 * e.health + rng.gauss(0, 0.04)))
            profit = revenue * margin
            if profit <= 0:
                cit = 0.0
            elif profit <= 3_000_000:
                cit = profit * 0.05        # small low-profit enterprise, effective rate
            elif e.industry.code[0] in "IC" and rng.random() < 0.5:
                cit = profit * 0.15        # high and new technology enterprise
            else:
                cit = profit * 0.25
            other = vat * 0.12 + revenue * 0.0003
            vat_d, cit_d, other_d = money(vat), money(cit), money(other)
            yield {
                "credit_code": e.credit_code,
                "enterprise_name": e.name,
                "year": year,
                "invoice_revenue": money(revenue),
                "vat_paid": vat_d,
                "cit_paid": cit_d,
                "other_taxes_paid": other_d,
                "total_tax_paid": vat_d + cit_d + other_d,
            }


# --- personal social-insurance contribution bases (closed) ------------------------------------------

@lru_cache(maxsize=8)
def _employers(seed: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Base-population enterprises in the headcount data before the first month, weighted."""
    indices, weights = [], []
    for i in range(BASE_ENTERPRISES):
        e = enterprise(seed, i)
        if e.established < SI_MONTHS[0] and _si_profile(seed, e) is not None:
            indices.append(i)
            weights.append(float(e.employees))
    return tuple(indices), tuple(accumulate(weights))


def _pick_employer(seed: int, rng) -> Enterprise:
    indices, cumulative = _employers(seed)
    position = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
    return enterprise(seed, indices[min(position, len(indices) - 1)])


def personal_contribution_rows(seed: int, persons: int | None) -> Iterator[Row]:
    for j in _indices(persons):
        p = person(seed, j)
        rng = rng_for(seed, "person-si", j)
        employer = _pick_employer(seed, rng)
        switch_at = rng.randint(2, 10) if rng.random() < 0.1 else None
        later_employer = _pick_employer(seed, rng) if switch_at is not None else employer
        gap = set()
        if rng.random() < 0.06:
            start = rng.randint(0, 10)
            gap = set(range(start, start + rng.randint(1, 3)))
        declared = p.wage * math.exp(rng.gauss(0, 0.05))
        raise_factor = rng.uniform(1.0, 1.08)
        for t, month in enumerate(SI_MONTHS):
            if t in gap:
                continue
            current = later_employer if switch_at is not None and t >= switch_at else employer
            wage = declared * (raise_factor if month >= date(2024, 7, 1) else 1.0)
            floor, ceiling = base_limits(month)
            base = Decimal(min(ceiling, max(floor, round(wage)))).quantize(TWO_PLACES)
            yield {
                "id_number": p.id_number,
                "name": p.name,
                "employer_credit_code": current.credit_code,
                "employer_name": current.name,
                "month": month,
                "contribution_base": base,
                "pension_personal": (base * Decimal("0.08")).quantize(TWO_PLACES),
                "medical_personal": (base * Decimal("0.02")).quantize(TWO_PLACES),
                "payment_status": "补缴" if rng.random() < 0.03 else "正常",
            }


# --- construction permits ---------------------------------------------------------------------------

_PROJECT_KINDS: Final = (
    ("房屋建筑工程", "安置房项目", 3), ("房屋建筑工程", "商住楼项目（一期）", 3), ("房屋建筑工程", "保障性租赁住房项目", 2),
    ("房屋建筑工程", "小学新建工程", 1), ("房屋建筑工程", "产业园项目", 3), ("房屋建筑工程", "综合楼改扩建工程", 2),
    ("房屋建筑工程", "城中村改造复建安置区项目", 1), ("房屋建筑工程", "人才公寓项目", 1), ("房屋建筑工程", "物流园项目", 1),
    ("市政基础设施工程", "道路工程", 2), ("市政基础设施工程", "雨污分流管网改造工程", 2), ("市政基础设施工程", "河涌整治工程", 1),
)


@lru_cache(maxsize=8)
def _builders(seed: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Indices of base-population developers and of contractors active before 2024."""
    developers, contractors = [], []
    for i in range(BASE_ENTERPRISES):
        e = enterprise(seed, i)
        if not e.active or e.established >= date(2024, 1, 1):
            continue
        if e.industry.code in ("K7010", "L7212"):
            developers.append(i)
        elif e.industry.code.startswith("E"):
            contractors.append(i)
    return tuple(developers), tuple(contractors)


def construction_permit_rows(seed: int) -> Iterator[Row]:
    developers, contractors = _builders(seed)
    for k in count():
        rng = rng_for(seed, "permit", k)
        district = pick_district(rng)
        kind, label, _ = rng.choices(_PROJECT_KINDS, [p[2] for p in _PROJECT_KINDS])[0]
        place = rng.choice((place_stem(rng.choice(district.streets)), place_stem(rng.choice(district.roads))))
        builder = enterprise(seed, rng.choice(developers))
        contractor = enterprise(seed, rng.choice(contractors))
        issued = random_date(rng, date(2024, 1, 2), REFERENCE_DATE)
        start = issued + timedelta(days=rng.randint(3, 60))
        if kind == "市政基础设施工程":
            area = Decimal("0.00")
            amount = math.exp(rng.gauss(math.log(3000), 1.0))
        else:
            area_f = math.exp(rng.gauss(math.log(45000), 0.9))
            area = money(area_f)
            amount = area_f * rng.uniform(0.28, 0.45)  # 万元: 2,800-4,500 元/m²
        yield {
            "permit_no": f"{district.code}2024{k + 1:08d}",
            "project_name": f"{district.name}{place}{label}",
            "project_type": kind,
            "builder_name": builder.name,
            "builder_credit_code": builder.credit_code,
            "contractor_name": contractor.name,
            "contractor_credit_code": contractor.credit_code,
            "district": district.name,
            "address": street_address(rng, district),
            "floor_area": area,
            "contract_amount": money(amount),
            "issue_date": issued,
            "planned_start": start,
            "planned_end": start + timedelta(days=rng.randint(180, 1100)),
        }
