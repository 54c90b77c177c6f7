"""The enterprise (key-holder) side: key generation, fast encryption, decryption. No network.

Typical use by the SDK::

    holder = generate_keypair()                      # or KeyHolder.from_dict(saved)
    register(holder.public_key_dict())               # {"kty": "paillier", "n": "...", "kid": ...}
    claims = holder.encrypt_claims({"capital": "1500000.00"}, {"capital": 2})
    ...send claims, receive results...
    holder.verification_results(results)             # {"capital": True}

    enc_w, enc_b = holder.encrypt_model(weights, bias, feature_scales, score_scale)
    ...register the model, request scores...
    holder.decrypt_scores(scores, score_scale)       # [Decimal(...), ...]

Encryption uses the factorisation (``PrivateKey.raw_encrypt``): by default the DJN
short-exponent method (see its docstring for the assumption), or ``method="exact"`` for the
textbook distribution under DCR alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from opendata.compute import ComputeError
from opendata.compute.encoding import (
    EncodingOverflowError,
    check_scale,
    default_max_int,
    from_fixed_point,
    from_residue,
    to_fixed_point,
    to_residue,
)
from opendata.compute.paillier import (
    DEFAULT_MAX_KEY_BITS,
    DEFAULT_MIN_KEY_BITS,
    PrivateKey,
    PublicKey,
    validate_public_key,
)
from opendata.compute.proofs import (
    RingPedersenParams,
    generate_blum_primes,
    prove_key,
    prove_range,
    randomness_of,
)

Number = int | float | Decimal | str


class KeyHolder:
    """A private key with encoding-aware encrypt/decrypt helpers."""

    def __init__(self, private_key: PrivateKey, *, method: str = "djn", max_int: int | None = None) -> None:
        if method not in ("djn", "exact"):
            raise ValueError("method must be 'djn' or 'exact'")
        self.private_key = private_key
        self.method = method
        self.max_int = default_max_int(private_key.public_key.n) if max_int is None else max_int

    # --- keys --------------------------------------------------------------------------------
    @classmethod
    def generate(cls, bits: int = DEFAULT_MIN_KEY_BITS, **options: Any) -> KeyHolder:
        """A Paillier-Blum key (p, q = 3 mod 4): the only kind whose proof (Pi^mod) exists."""
        p, q = generate_blum_primes(bits)
        public = validate_public_key(p * q, min_bits=min(bits, DEFAULT_MIN_KEY_BITS),
                                     max_bits=max(bits, DEFAULT_MAX_KEY_BITS))
        return cls(PrivateKey(public, p, q), **options)

    @property
    def is_blum(self) -> bool:
        """Whether the key can be proved (keys made before proofs usually cannot)."""
        return self.private_key.p % 4 == 3 and self.private_key.q % 4 == 3

    # --- proofs (compute/proofs; the context comes from GET /api/v1/compute/parameters) --------
    def prove_key(self, params: RingPedersenParams, context: bytes) -> dict:
        """Pi^mod + Pi^fac for this key (~0.3 s at 2048 bits). Raises ProofError for a key
        that is not a Paillier-Blum modulus: generate a new one."""
        return prove_key(int(self.private_key.p), int(self.private_key.q), params, context)

    def registration_body(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The body of a key registration, from the portal's published ``parameters`` (GET
        /api/v1/compute/parameters): the public key and its proof, never p or q."""
        from opendata.compute.proofs import proof_context

        params = RingPedersenParams.from_json(parameters["ring_pedersen"])  # checks Pi^prm
        context = proof_context(str(parameters["portal"]), str(parameters["organisation"]), self.public_key.key_id,
                                "key-registration")
        return {"public_key": self.public_key_dict(), "proof": self.prove_key(params, context)}

    def encrypt_proved(self, value: int, bound_bits: int, params: RingPedersenParams,
                       context: bytes) -> tuple[str, dict]:
        """(Enc(value), its range proof that |value| < 2^bound_bits), value a signed integer."""
        ciphertext = self.encrypt_int(value)
        p, q = int(self.private_key.p), int(self.private_key.q)
        rho = randomness_of(p, q, ciphertext)
        proof = prove_range(int(self.public_key.n), ciphertext, value, rho, bound_bits, params, context,
                            factors=(p, q))
        return str(ciphertext), proof

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key

    def public_key_dict(self) -> dict[str, str]:
        return self.public_key.to_dict()

    def to_dict(self) -> dict[str, str]:
        """Includes p and q: keep it secret."""
        return self.private_key.to_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, min_bits: int = DEFAULT_MIN_KEY_BITS, **options: Any) -> KeyHolder:
        return cls(PrivateKey.from_dict(data, min_bits=min_bits), **options)

    # --- encryption --------------------------------------------------------------------------
    def encrypt_int(self, value: int) -> int:
        """Enc of a signed (already fixed-point) integer."""
        n = self.public_key.n
        return int(self.private_key.raw_encrypt(to_residue(value, n, max_int=self.max_int), method=self.method))

    def encrypt(self, value: Number, scale: int = 0, *, rounding: str | None = None) -> int:
        """Enc(value * 10**scale); refuses extra decimals unless ``rounding`` is given."""
        return self.encrypt_int(to_fixed_point(value, scale, max_int=self.max_int, rounding=rounding))

    def encrypt_many(self, values: Sequence[Number], scale: int = 0) -> list[int]:
        return [self.encrypt(v, scale) for v in values]

    def encrypt_claims(self, values: Mapping[str, Number], scales: Mapping[str, int]) -> dict[str, str]:
        """Verification request body: field -> Enc(claimed) as a decimal string."""
        return {field: str(self.encrypt(value, scales[field])) for field, value in values.items()}

    @staticmethod
    def weight_scales(feature_scales: Sequence[int], score_scale: int, weights: int) -> list[int]:
        """The scale of each w_i, ``score_scale - feature_scales[i]``, so that every w_i * x_i
        and b share the score's scale and w.x + b decodes at ``score_scale``."""
        if weights != len(feature_scales):
            raise ComputeError("one scale per weight is required", code="feature_count_mismatch")
        check_scale(score_scale)
        scales = [score_scale - check_scale(s) for s in feature_scales]
        if min(scales, default=0) < 0:
            raise ComputeError("score_scale must be at least every feature scale", code="scale_invalid")
        return scales

    def encrypt_model(
        self, weights: Sequence[Number], bias: Number, feature_scales: Sequence[int], score_scale: int
    ) -> tuple[list[int], int]:
        """Enc(w_i) at scale ``score_scale - feature_scales[i]`` and Enc(b) at ``score_scale``."""
        scales = self.weight_scales(feature_scales, score_scale, len(weights))
        return [self.encrypt(w, s) for w, s in zip(weights, scales, strict=True)], self.encrypt(bias, score_scale)

    def encrypt_model_proved(
        self, weights: Sequence[Number], bias: Number, thresholds: Sequence[Number], feature_scales: Sequence[int],
        score_scale: int, weight_bits: int, bias_bits: int, params: RingPedersenParams, context: bytes,
    ) -> dict[str, Any]:
        """The secret inputs of a decision / banded model, each with its range proof
        (|w| < 2^weight_bits, |b|, |t| < 2^bias_bits in fixed point): the members of
        ``POST /api/v1/compute/models`` besides name, features and mode."""
        scales = self.weight_scales(feature_scales, score_scale, len(weights))

        def proved(value: Number, scale: int, bits: int) -> tuple[str, dict]:
            return self.encrypt_proved(to_fixed_point(value, scale, max_int=self.max_int), bits, params, context)

        enc_w = [proved(w, s, weight_bits) for w, s in zip(weights, scales, strict=True)]
        enc_b = proved(bias, score_scale, bias_bits)
        enc_t = [proved(t, score_scale, bias_bits) for t in thresholds]
        return {"enc_weights": [c for c, _ in enc_w], "enc_bias": enc_b[0], "enc_thresholds": [c for c, _ in enc_t],
                "weight_bits": weight_bits, "bias_bits": bias_bits,
                "proofs": {"weights": [p for _, p in enc_w], "bias": enc_b[1], "thresholds": [p for _, p in enc_t]}}

    # --- decryption --------------------------------------------------------------------------
    def decrypt_residue(self, c: int | str) -> int:
        """The raw plaintext in [0, n); validates the ciphertext first."""
        return int(self.private_key.raw_decrypt(c))  # raw_decrypt validates c

    def decrypt_int(self, c: int | str) -> int:
        """Signed plaintext; EncodingOverflowError if it lies in the overflow band (overflow,
        tampering, or a ciphertext under another key)."""
        return from_residue(self.decrypt_residue(c), self.public_key.n, max_int=self.max_int)

    def decrypt(self, c: int | str, scale: int = 0) -> Decimal:
        return from_fixed_point(self.decrypt_int(c), scale)

    def decrypt_scores(self, ciphertexts: Sequence[int | str], score_scale: int) -> list[Decimal]:
        return [self.decrypt(c, score_scale) for c in ciphertexts]

    def decision(self, c: int | str) -> bool:
        """Decision-mode result: True when the score is at or above the threshold. The server
        blinds the difference as rho*d + rho' with |.| < n/8: a residue below n/2 is >= 0."""
        return self.decrypt_residue(c) < self.public_key.n // 2

    def band(self, ciphertexts: Sequence[int | str]) -> int:
        """Banded-mode result: how many thresholds the score reaches (0..k)."""
        return sum(self.decision(c) for c in ciphertexts)

    def is_match(self, c: int | str) -> bool:
        """Verification result: plaintext 0 means the claim equals the server's value."""
        return self.decrypt_residue(c) == 0

    def verification_results(self, results: Mapping[str, int | str]) -> dict[str, bool]:
        return {field: self.is_match(c) for field, c in results.items()}

    def __repr__(self) -> str:
        return f"KeyHolder({self.private_key!r}, method={self.method!r})"


def generate_keypair(bits: int = DEFAULT_MIN_KEY_BITS, **options: Any) -> KeyHolder:
    """A fresh key holder with an exactly ``bits``-bit Paillier-Blum modulus (~0.2 s at 2048 bits)."""
    return KeyHolder.generate(bits, **options)


__all__ = ["EncodingOverflowError", "KeyHolder", "generate_keypair"]
