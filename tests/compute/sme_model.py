"""The SME loan model of the walk-through (docs/compute.md), and the same model computed
in plaintext from the CSV files: what the server's encrypted scores must decrypt to."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.compute.world import World

RATING_POINTS = {"A": 4, "B": 3, "M": "2.5", "C": 1, "D": 0}
FEATURES: list[dict[str, Any]] = [
    {"dataset": "tax-credit-ratings", "field": "score", "where": {"year": 2023}, "scale": 1, "default": 60},
    {"dataset": "tax-credit-ratings", "field": "rating", "where": {"year": 2023}, "map": RATING_POINTS, "scale": 1},
    {"dataset": "social-insurance-headcounts", "field": "headcount", "where": {"month": "2024-10-01"}},
    {"dataset": "administrative-penalties", "aggregate": "count"},
    {"dataset": "administrative-penalties", "field": "amount", "aggregate": "sum", "scale": 2},
]
WEIGHTS = ["0.5", "12", "0.25", "-30", "-0.001"]
BIAS = "100"
SCORE_SCALE = 5


def expected_scores(world: World, subjects: list[str]) -> dict[str, Decimal]:
    """The model in plaintext, straight from the CSV files: what the server must compute."""
    ratings = {r["credit_code"]: r for r in world.rows("tax-credit-ratings") if r["year"] == "2023"}
    heads = {r["credit_code"]: r for r in world.rows("social-insurance-headcounts") if r["month"] == "2024-10-01"}
    penalties = world.rows("administrative-penalties")
    scores = {}
    for subject in subjects:
        rating = ratings.get(subject)
        fines = [Decimal(p["amount"]) for p in penalties if p["credit_code"] == subject]
        x = [Decimal(rating["score"]) if rating else Decimal(60),
             Decimal(str(RATING_POINTS[rating["rating"]])) if rating else Decimal(0),
             Decimal(heads[subject]["headcount"]) if subject in heads else Decimal(0),
             Decimal(len(fines)), sum(fines, Decimal(0))]
        scores[subject] = sum((Decimal(w) * v for w, v in zip(WEIGHTS, x)), Decimal(BIAS))
    return scores


def firms(world: World) -> list[str]:
    return sorted({r["credit_code"] for r in world.rows("tax-credit-ratings")})
