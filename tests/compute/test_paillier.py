"""Keys, validation, serialisation, CRT decryption, fast encryption, obfuscators."""

from __future__ import annotations

import threading

import gmpy2
import phe
import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from opendata.compute import ComputeError
from opendata.compute.encoding import EncodingOverflowError
from opendata.compute.keyholder import KeyHolder, generate_keypair
from opendata.compute.obfuscators import ObfuscatorPool, ObfuscatorPoolRegistry, obfuscators_for
from opendata.compute.paillier import (
    InvalidCiphertextError,
    InvalidPrivateKeyError,
    InvalidPublicKeyError,
    PrivateKey,
    PublicKey,
    ciphertext_to_str,
    generate_private_key,
    small_primes_product,
    validate_public_key,
)

SLOW = settings(max_examples=20, deadline=None)


@pytest.fixture(scope="session")
def key() -> PrivateKey:
    return generate_private_key(2048)


@pytest.fixture(scope="session")
def other_key() -> PrivateKey:
    return generate_private_key(2048)


@pytest.fixture(scope="session")
def small_key() -> PrivateKey:
    # Below the 2048-bit policy on purpose, for pure-math properties only.
    return generate_private_key(512, min_bits=512)


def prime(bits: int, seed: int) -> mpz:
    # Top two bits set, so a product of two such primes has exactly twice the bits.
    return gmpy2.next_prime(mpz(seed) << (bits - 64) | (mpz(3) << (bits - 2)))


# --- public key validation ------------------------------------------------------------------
def test_generated_key_is_valid_and_exact_size(key: PrivateKey) -> None:
    assert key.public_key.bits == 2048
    assert validate_public_key(key.public_key.n) == key.public_key


@pytest.mark.parametrize(
    ("make_n", "code"),
    [
        (lambda: prime(512, 11) * prime(512, 13), "key_too_small"),
        (lambda: prime(1024, 3) * prime(1024, 5) * 2, "key_even"),
        (lambda: prime(1024, 7) ** 2, "key_square"),
        (lambda: mpz(999_983) * prime(2040, 17), "key_small_factor"),
        (lambda: mpz(3) * prime(2047, 19), "key_small_factor"),
        (lambda: prime(2100, 23) * prime(2100, 29), "key_too_large"),
        (lambda: prime(2048, 31), "key_prime"),
        (lambda: mpz(-1) * prime(1024, 37) * prime(1024, 41), "key_invalid"),
    ],
)
def test_bad_public_keys_refused(make_n, code: str) -> None:
    n = make_n()
    with pytest.raises(InvalidPublicKeyError) as info:
        validate_public_key(n)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


def test_key_size_policy_is_configurable() -> None:
    n = prime(512, 11) * prime(512, 13)
    assert validate_public_key(n, min_bits=1024).bits == n.bit_length()
    with pytest.raises(InvalidPublicKeyError) as info:
        validate_public_key(n, min_bits=512, max_bits=1000)
    assert info.value.code == "key_too_large"


def test_non_integer_keys_refused() -> None:
    for bad in ("123", 1.5, True, None):
        with pytest.raises(InvalidPublicKeyError):
            validate_public_key(bad)  # type: ignore[arg-type]


def test_small_primes_product_covers_every_prime_below_a_million() -> None:
    product = small_primes_product()
    assert product % 999_983 == 0 and product % 2 == 0 and product % 3 == 0
    assert product % 1_000_003 != 0
    assert product % (2 * 2) != 0  # square-free


# --- serialisation --------------------------------------------------------------------------
def test_public_key_dict_round_trip(key: PrivateKey) -> None:
    data = key.public_key.to_dict()
    assert data["kty"] == "paillier" and data["n"] == str(key.public_key.n)
    assert PublicKey.from_dict(data) == key.public_key
    assert PublicKey.from_dict({"kty": "paillier", "n": data["n"]}) == key.public_key


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: {**d, "kty": "rsa"}, "key_invalid"),
        (lambda d: {**d, "kid": "0" * 32}, "key_id_mismatch"),
        (lambda d: {**d, "n": hex(int(d["n"]))}, "not_decimal"),
        (lambda d: {**d, "n": " " + d["n"]}, "not_decimal"),
        (lambda d: {**d, "n": "9" * 5000}, "not_decimal"),
        (lambda d: {**d, "n": str(int(d["n"]) + 1)}, "key_even"),
    ],
)
def test_public_key_dict_refusals(key: PrivateKey, mutate, code: str) -> None:
    with pytest.raises(ComputeError) as info:
        PublicKey.from_dict(mutate(key.public_key.to_dict()))
    assert info.value.code == code


def test_private_key_round_trip_and_refusals(key: PrivateKey) -> None:
    data = key.to_dict()
    again = PrivateKey.from_dict(data)
    assert again.public_key == key.public_key and again.p == key.p
    assert str(key.p) not in repr(key) and str(key.p) not in repr(KeyHolder(key))
    with pytest.raises(InvalidPrivateKeyError):
        PrivateKey.from_dict({**data, "p": str(gmpy2.next_prime(key.p))})
    with pytest.raises(InvalidPrivateKeyError):
        PrivateKey(key.public_key, key.p, key.p)


def test_phe_interoperability(key: PrivateKey) -> None:
    phe_private = key.to_phe()
    ours = key.raw_encrypt(424242)
    assert phe_private.decrypt(phe.EncryptedNumber(phe_private.public_key, int(ours))) == 424242
    theirs = phe_private.public_key.encrypt(777).ciphertext(be_secure=True)
    assert key.raw_decrypt(theirs) == 777
    assert PrivateKey.from_phe(phe_private).public_key == key.public_key


# --- ciphertext validation ------------------------------------------------------------------
def test_tampered_ciphertexts_refused(key: PrivateKey) -> None:
    public = key.public_key
    cases = {
        0: "ciphertext_out_of_range",
        -5: "ciphertext_out_of_range",
        public.n_squared: "ciphertext_out_of_range",
        public.n_squared + 1: "ciphertext_out_of_range",
        key.p * 12345: "ciphertext_not_unit",
        key.q: "ciphertext_not_unit",
        public.n: "ciphertext_not_unit",
    }
    for c, code in cases.items():
        with pytest.raises(InvalidCiphertextError) as info:
            public.validate_ciphertext(c)
        assert info.value.code == code
        with pytest.raises(InvalidCiphertextError):
            key.raw_decrypt(c)
    for bad in (True, 1.5, None, "0x1f", "-12", "1 2", "9" * 2000):
        with pytest.raises(ComputeError):
            public.validate_ciphertext(bad)


def test_ciphertext_strings_parse(key: PrivateKey) -> None:
    c = key.raw_encrypt(99)
    text = ciphertext_to_str(c)
    assert key.public_key.validate_ciphertext(text) == c
    assert key.raw_decrypt(text) == 99


# --- encryption and decryption --------------------------------------------------------------
@SLOW
@given(m=st.integers(min_value=0), method=st.sampled_from(["djn", "exact"]))
def test_encrypt_decrypt_round_trip(key: PrivateKey, m: int, method: str) -> None:
    m %= int(key.public_key.n)
    c = key.raw_encrypt(m, method=method)
    key.public_key.validate_ciphertext(c)
    assert key.raw_decrypt(c) == m


def test_encryption_is_randomised(key: PrivateKey) -> None:
    for method in ("djn", "exact"):
        assert len({key.raw_encrypt(5, method=method) for _ in range(5)}) == 5
    with pytest.raises(ComputeError):
        key.raw_encrypt(key.public_key.n)
    with pytest.raises(ValueError):
        key.raw_encrypt(1, method="textbook")


@settings(max_examples=60, deadline=None)
@given(a=st.integers(min_value=0), b=st.integers(min_value=0), k=st.integers(min_value=0, max_value=2**64))
def test_homomorphic_properties(small_key: PrivateKey, a: int, b: int, k: int) -> None:
    n, n2 = small_key.public_key.n, small_key.public_key.n_squared
    a, b = a % n, b % n
    ca, cb = small_key.raw_encrypt(a), small_key.raw_encrypt(b, method="exact")
    assert small_key.raw_decrypt(ca * cb % n2) == (a + b) % n
    assert small_key.raw_decrypt(gmpy2.powmod(ca, k, n2)) == a * k % n
    assert small_key.raw_decrypt(small_key.public_key.encrypt(a) * cb % n2) == (a + b) % n


@SLOW
@given(m=st.integers(min_value=-(2**64), max_value=2**64))
def test_foreign_key_ciphertext_is_refused_or_garbage(key: PrivateKey, other_key: PrivateKey, m: int) -> None:
    mine, foreign = KeyHolder(key), KeyHolder(other_key)
    c = foreign.encrypt_int(m)
    try:
        mine.decrypt_int(c)
    except (InvalidCiphertextError, EncodingOverflowError):
        return  # refused by validation (c >= n^2) or detected as garbage (overflow band)
    pytest.fail("a foreign ciphertext decoded as a plausible value")


def test_generate_keypair_sizes() -> None:
    holder = generate_keypair(768, method="exact")
    assert holder.public_key.bits == 768
    assert holder.decrypt_int(holder.encrypt_int(-3)) == -3
    with pytest.raises(ValueError):
        generate_private_key(1023)


# --- obfuscators ----------------------------------------------------------------------------
def test_obfuscators_are_encryptions_of_zero(key: PrivateKey) -> None:
    pool = ObfuscatorPool(key.public_key, capacity=8, background=False)
    assert pool.fill() == 8
    values = pool.take(10)  # 8 pooled + 2 computed on demand
    assert len(set(values)) == 10
    assert all(key.raw_decrypt(v) == 0 for v in values)
    stats = pool.stats()
    assert stats["computed_on_demand"] == 2 and stats["handed_out"] == 10 and stats["available"] == 0


def test_pool_hands_each_value_out_once_across_threads(small_key: PrivateKey) -> None:
    pool = ObfuscatorPool(small_key.public_key, capacity=200, low_water=50, background=True)
    taken: list[list[mpz]] = [[] for _ in range(4)]

    def consumer(index: int) -> None:
        for _ in range(25):
            taken[index].extend(pool.take(3))

    threads = [threading.Thread(target=consumer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.stop()
    everything = [v for part in taken for v in part]
    assert len(everything) == 300 and len(set(everything)) == 300


def test_background_filler_reaches_capacity_and_stops(small_key: PrivateKey) -> None:
    with ObfuscatorPool(small_key.public_key, capacity=40, background=True) as pool:
        deadline = threading.Event()
        for _ in range(200):
            if len(pool) == 40:
                break
            deadline.wait(0.05)
        assert len(pool) == 40
    assert pool._thread is not None and not pool._thread.is_alive()


def test_pool_discards_values_after_fork(small_key: PrivateKey) -> None:
    pool = ObfuscatorPool(small_key.public_key, capacity=5, background=False)
    pool.fill()
    pool._pid = -1  # what a forked child would see: a pid that is not the creator's
    assert len(pool) == 0
    assert len(pool.take_available(5)) == 0


def test_obfuscator_sources(small_key: PrivateKey, key: PrivateKey) -> None:
    public = small_key.public_key
    given_values = public.obfuscators(2)
    assert obfuscators_for(given_values, 3, public)[:2] == given_values
    assert len(obfuscators_for(None, 2, public)) == 2
    with pytest.raises(ValueError):
        obfuscators_for(given_values, 1, public)
    with pytest.raises(ValueError):
        obfuscators_for(ObfuscatorPool(key.public_key, capacity=1, background=False), 1, public)


def test_registry_keeps_one_pool_per_key(small_key: PrivateKey) -> None:
    registry = ObfuscatorPoolRegistry(max_pools=1, capacity=2, background=False)
    first = registry.pool_for(small_key.public_key)
    assert registry.pool_for(PublicKey(small_key.public_key.n)) is first
    other = generate_private_key(256, min_bits=256).public_key
    assert registry.pool_for(other) is not first
    assert registry.pool_for(small_key.public_key) is not first  # evicted, recreated
    registry.close()


@settings(max_examples=30, deadline=None)
@given(k=st.integers(min_value=1, max_value=2**128))
def test_tampering_properties(key: PrivateKey, k: int) -> None:
    public = key.public_key
    with pytest.raises(InvalidCiphertextError) as info:
        public.validate_ciphertext(public.n_squared + k)
    assert info.value.code == "ciphertext_out_of_range"
    for factor in (key.p, key.q):
        with pytest.raises(InvalidCiphertextError) as info:
            public.validate_ciphertext(factor * k % public.n_squared or factor)
        assert info.value.code == "ciphertext_not_unit"
