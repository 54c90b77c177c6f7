"""Differential privacy of the intersection statistics, with OpenDP (the ``opendp`` package of
the OpenDP project, Harvard; its samplers are written in Rust, use the operating system's
cryptographic randomness and are exact on integers, with a proof document per measurement).

A query spends ``epsilon`` (the grant's per-query epsilon), split evenly:

* count: OpenDP's Laplace measurement on the integers (``make_laplace`` over
  ``atom_domain(T=int)``, internally discrete Laplace) with sensitivity 1 (adding or
  removing one subject changes the intersection by at most one), scale 1 / (epsilon / 2);
* sum: the same measurement with sensitivity Delta = max(|lower|, |upper|) in fixed-point
  units (the clamping bounds), scale Delta / (epsilon / 2). The portal never holds the sum
  in the clear, so it draws the noise (the measurement applied to 0) and adds it inside the
  ciphertext; what the enterprise decrypts is already noised.

Each measurement's privacy map is checked against the epsilon it is meant to spend, so a
wrong scale cannot pass unnoticed. The mean is sum / count computed by the enterprise:
post-processing, no further cost. Queries compose sequentially, so a licence's budget is a
plain sum of what its answered queries spent (compute/psi_grants.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import opendp.prelude as dp

dp.enable_features("contrib")

# A float epsilon is compared with a little slack: 0.1 + 0.2 must fit a budget of 0.3.
SLACK = 1e-9


@lru_cache(maxsize=256)
def _laplace(scale: float) -> dp.Measurement:
    return dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)


def _measurement(sensitivity: int, epsilon: float) -> dp.Measurement:
    if sensitivity < 1 or not epsilon > 0:
        raise ValueError("sensitivity >= 1 and epsilon > 0")
    measurement = _laplace(sensitivity / epsilon)
    spent = measurement.map(sensitivity)
    if spent > epsilon * (1 + 1e-6):
        raise ValueError(f"the measurement would spend {spent}, more than {epsilon}")
    return measurement


@dataclass(frozen=True)
class Release:
    """The noise of one query: its scales (public, shown to the enterprise) and epsilons."""

    epsilon: float
    sensitivity: int  # of the sum, in fixed-point units

    @property
    def count_epsilon(self) -> float:
        return self.epsilon / 2

    @property
    def sum_epsilon(self) -> float:
        return self.epsilon / 2

    @property
    def count_scale(self) -> float:
        return 1 / self.count_epsilon

    @property
    def sum_scale(self) -> float:
        return self.sensitivity / self.sum_epsilon

    def noisy_count(self, count: int) -> int:
        return int(_measurement(1, self.count_epsilon)(int(count)))

    def sum_noise(self) -> int:
        return int(_measurement(self.sensitivity, self.sum_epsilon)(0))

    def to_json(self, scale: int) -> dict[str, object]:
        """Scales in the field's own units (fixed point divided out)."""
        return {"epsilon": self.epsilon, "count_epsilon": self.count_epsilon, "sum_epsilon": self.sum_epsilon,
                "count_noise_scale": self.count_scale, "sum_noise_scale": self.sum_scale / 10 ** scale,
                "mechanism": "discrete Laplace (OpenDP make_laplace on integers)"}


def fits(spent: float, epsilon: float, total: float) -> bool:
    return spent + epsilon <= total + SLACK
