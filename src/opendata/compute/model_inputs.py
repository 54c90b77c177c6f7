"""What a model brings for its output mode (docs/security/compute-threat-model.md):

* ``reviewed``: plaintext weights and bias, which the administrator reads before approving;
  the *server* encrypts them under the owner's key, so no weight is chosen in the dark.
  Scores are exact.
* ``decision`` (one threshold) / ``banded`` (2 to 8 thresholds): encrypted weights, bias and
  thresholds, each with a range proof of the declared bound (|w_i| < 2^weight_bits,
  |b|, |t| < 2^bias_bits). The enterprise learns only the side of its threshold, or its band.

Parsing happens here; the proofs are checked by ``check_model_proofs`` before anything is
stored. Every refusal is a 400 with a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opendata.compute import ComputeError
from opendata.compute.encoding import EncodingError, to_fixed_point
from opendata.compute.inputs import (
    MAX_BIAS_BITS,
    MAX_THRESHOLDS,
    MAX_WEIGHT_BITS,
    blinding_exponent_bits,
    check_proofs,
)
from opendata.compute.paillier import PublicKey
from opendata.compute.proofs import RingPedersenParams
from opendata.errors import bad_request

REVIEWED, DECISION, BANDED = "reviewed", "decision", "banded"
SECRET_MODES = (DECISION, BANDED)
MAX_WEIGHT_TEXT = 64


@dataclass(frozen=True)
class ReviewedWeights:
    """Plaintext weights as sent (decimal text) and as fixed-point integers."""

    text: list[str]
    bias_text: str

    def as_json(self) -> dict[str, Any]:
        return {"weights": self.text, "bias": self.bias_text}


@dataclass(frozen=True)
class SecretInputs:
    enc_weights: list[str]
    enc_bias: str
    enc_thresholds: list[str]
    weight_bits: int
    bias_bits: int
    proofs: dict[str, Any]


def _bits(value: Any, name: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise bad_request("invalid_bound", f"{name} is a whole number from 1 to {limit}")
    return value


def _decimal_text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > MAX_WEIGHT_TEXT:
        raise bad_request("invalid_weight", f"{what} is a number as text (at most {MAX_WEIGHT_TEXT} characters)")
    return str(value)


def parse_reviewed(data: dict[str, Any], features: int) -> ReviewedWeights:
    weights = data.get("weights")
    if not isinstance(weights, list) or len(weights) != features:
        raise bad_request("feature_count_mismatch", "weights has one plaintext weight per feature")
    if "bias" not in data:
        raise bad_request("missing_field", "a reviewed model needs its plaintext bias")
    return ReviewedWeights([_decimal_text(w, f"weights[{i}]") for i, w in enumerate(weights)],
                           _decimal_text(data["bias"], "bias"))


def parse_secret(data: dict[str, Any], mode: str, features: int) -> SecretInputs:
    weights, thresholds, proofs = data.get("enc_weights"), data.get("enc_thresholds"), data.get("proofs")
    if not isinstance(weights, list) or len(weights) != features:
        raise bad_request("feature_count_mismatch", "enc_weights has one ciphertext per feature")
    wanted = "exactly 1" if mode == DECISION else f"2 to {MAX_THRESHOLDS}"
    if not isinstance(thresholds, list) or not (len(thresholds) == 1 if mode == DECISION
                                                else 2 <= len(thresholds) <= MAX_THRESHOLDS):
        raise bad_request("invalid_thresholds", f"a {mode} model has {wanted} encrypted threshold(s)")
    texts = [*weights, data.get("enc_bias"), *thresholds]
    if not all(isinstance(c, str) for c in texts):
        raise bad_request("not_decimal", "ciphertexts are decimal strings")
    if (not isinstance(proofs, dict) or set(proofs) != {"weights", "bias", "thresholds"}
            or not isinstance(proofs["weights"], list) or len(proofs["weights"]) != features
            or not isinstance(proofs["thresholds"], list) or len(proofs["thresholds"]) != len(thresholds)):
        raise bad_request("range_proof_invalid", 'proofs is {"weights": [one per weight], "bias": {...}, '
                          '"thresholds": [one per threshold]}')
    return SecretInputs(list(weights), data["enc_bias"], list(thresholds),
                        _bits(data.get("weight_bits"), "weight_bits", MAX_WEIGHT_BITS),
                        _bits(data.get("bias_bits"), "bias_bits", MAX_BIAS_BITS), proofs)


def reviewed_integers(weights: ReviewedWeights, weight_scales: list[int], score_scale: int) -> tuple[list[int], int]:
    """Fixed-point weights (at score_scale - feature scale) and bias (at score_scale), exact:
    a weight with more decimals than its scale allows is refused, never rounded."""
    limit = (1 << MAX_WEIGHT_BITS) - 1
    try:
        ints = [to_fixed_point(text, scale, max_int=limit) for text, scale in zip(weights.text, weight_scales,
                                                                                   strict=True)]
        bias = to_fixed_point(weights.bias_text, score_scale, max_int=(1 << MAX_BIAS_BITS) - 1)
    except (EncodingError, ValueError) as error:
        raise bad_request("invalid_weight", f"a weight or the bias does not fit: {error}") from None
    return ints, bias


def encrypt_reviewed(public_key: PublicKey, ints: list[int], bias: int) -> tuple[list[str], str]:
    """The server's own encryptions (full-size randomness) of the reviewed weights."""
    n = public_key.n
    return [str(public_key.encrypt(w % n)) for w in ints], str(public_key.encrypt(bias % n))


def check_secret(public_key: PublicKey, inputs: SecretInputs, params: RingPedersenParams, context: bytes,
                 features: int) -> None:
    """Ciphertexts valid under the key, bounds leave room to blind, every range proof verifies."""
    try:
        for c in [*inputs.enc_weights, inputs.enc_bias, *inputs.enc_thresholds]:
            public_key.validate_ciphertext(c)
        blinding_exponent_bits(public_key.bits, features, inputs.weight_bits, inputs.bias_bits)
        items = ([(c, p, inputs.weight_bits) for c, p in zip(inputs.enc_weights, inputs.proofs["weights"], strict=True)]
                 + [(inputs.enc_bias, inputs.proofs["bias"], inputs.bias_bits)]
                 + [(c, p, inputs.bias_bits) for c, p in zip(inputs.enc_thresholds, inputs.proofs["thresholds"],
                                                             strict=True)])
        names = ([f"enc_weights[{i}]" for i in range(len(inputs.enc_weights))] + ["enc_bias"]
                 + [f"enc_thresholds[{i}]" for i in range(len(inputs.enc_thresholds))])
        check_proofs(int(public_key.n), items, params, context, names)
    except ComputeError as error:
        raise bad_request(error.code, str(error)) from None
