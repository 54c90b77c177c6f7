"""The intersection protocol's core (compute/psi.py, psi_group.py, privacy.py) without HTTP:
exact against plaintext, the group's point checks, what the portal's view holds, and what
the noise bounds in the differencing attack (two lists differing by one id)."""

from __future__ import annotations

import base64
import math
from decimal import Decimal

import pytest

from opendata.compute import psi
from opendata.compute.paillier import generate_private_key
from opendata.compute.privacy import Release
from opendata.compute.psi_group import (
    PointError,
    blind_ids,
    blind_points,
    decode_points,
    encode_points,
    hash_to_group,
    random_scalar,
)


@pytest.fixture(scope="module")
def keys():
    transport = generate_private_key(2048)
    return transport, psi.transport_base(transport), generate_private_key(2048)


def _offer(transport, subjects, values):
    scalar = random_scalar()
    points, cts = psi.offer_chunk(scalar, (int(transport.public_key.n), int(transport.p), int(transport.q)),
                                  subjects, values)
    points, cts = psi.shuffled(points, cts)
    return scalar, points, cts


def _answer(keys, subjects, values, mine, noise=0):
    transport, h, enterprise = keys
    scalar, points, cts = _offer(transport, subjects, values)
    reply = psi.enterprise_reply(mine, points, cts, psi.TransportKey(int(transport.public_key.n), h), enterprise)
    ids, d, w, z, total = psi.parse_reply(reply.body(), transport.public_key, enterprise.public_key, len(points), 100)
    psi.check_total(transport, w, total, sum(values))
    positions = psi.matches(psi.blind_chunk(scalar, ids), d)
    c = psi.answer(transport, enterprise.public_key, w, z, positions, noise)
    return len(positions), psi.signed(enterprise.raw_decrypt(c), enterprise.public_key.n), reply


def test_count_and_sum_equal_the_plaintext_intersection_including_negative_values(keys):
    subjects = [f"S{i:03d}" for i in range(24)]
    values = [(-1) ** i * (i * 37 % 500) for i in range(24)]
    mine = [f"S{i:03d}" for i in range(0, 36, 3)]  # 8 inside, 4 outside
    count, total, _ = _answer(keys, subjects, values, mine)
    inside = [i for i in range(0, 24, 3)]
    assert count == len(inside) and total == sum(values[i] for i in inside)
    assert _answer(keys, subjects, values, ["nobody"], noise=-7)[:2] == (0, -7)


def test_the_portals_view_holds_no_id_and_no_order(keys):
    """What reaches the portal: H(x)^k_e (not H(x): it would let the portal hash guesses),
    points and ciphertexts in the enterprise's fresh order."""
    subjects = [f"S{i:03d}" for i in range(12)]
    _, _, reply = _answer(keys, subjects, list(range(12)), subjects[:6])
    sent = set(reply.ids) | set(reply.points)
    assert not sent & {hash_to_group(s) for s in subjects}
    assert reply.ids == sorted(reply.ids)


def test_fixed_point_clamps_and_rounds():
    assert psi.fixed_point("123.456", Decimal(0), Decimal(100), 2) == 10000
    assert psi.fixed_point("-5", Decimal(0), Decimal(100), 2) == 0
    assert psi.fixed_point(12.345, Decimal(0), Decimal(100), 2) == 1234  # half-even on the decimal text


def test_points_off_the_curve_of_small_order_or_the_identity_are_refused():
    good = encode_points([hash_to_group("a"), hash_to_group("b")])
    small_order = base64.b64encode(bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")).decode()
    for bad in (base64.b64encode(b"\x01" + bytes(31)).decode(), base64.b64encode(bytes(32)).decode(), small_order,
                base64.b64encode(b"\xff" * 32).decode(), "short", 7):
        with pytest.raises(PointError):
            decode_points([good[0], bad], "ids")
    with pytest.raises(PointError) as repeated:
        decode_points([good[0], good[0]], "ids")
    assert repeated.value.code == "duplicate_points"
    with pytest.raises(PointError) as counted:
        decode_points(good, "points", count=3)
    assert counted.value.code == "wrong_count"
    assert len(decode_points(good, "ids", max_count=2)) == 2


def test_the_differencing_attack_learns_at_most_e_to_the_epsilon():
    """The attacker asks list L and L + {target}; the counts' difference is 1 + noise if the
    target is in the dataset, 0 + noise if not. Whatever rule it guesses by, the chance of
    each observed difference differs by at most e^eps between the two worlds (two queries at
    eps/2 each on the count). Checked on OpenDP's sampler with the best threshold rule."""
    import opendp.prelude as dp

    release = Release(epsilon=1.0, sensitivity=100)
    assert isinstance(release.noisy_count(10), int) and release.count_scale == 2.0
    draws = 3000
    # The same measurement at the release's scale, on a vector: one call draws them all.
    sampler = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int),
                                scale=release.count_scale)
    a, b, c = (sampler([v] * draws) for v in (11, 10, 10))
    inside = [x - y for x, y in zip(a, b)]
    outside = [x - y for x, y in zip(c, b)]
    bound = math.exp(2 * release.count_epsilon)  # two count releases
    for threshold in (0, 1, 2):
        p_in = sum(d >= threshold for d in inside) / draws
        p_out = sum(d >= threshold for d in outside) / draws
        assert p_in <= bound * p_out + 0.03 and (1 - p_out) <= bound * (1 - p_in) + 0.03
    # ... and the accuracy bought: the noise's spread is its scale, 1 / (eps / 2) = 2.
    spread = sum(abs(d) for d in outside) / draws
    assert 1.5 < spread < 4.5


def test_the_sum_noise_is_calibrated_to_the_clamping_bound():
    release = Release(epsilon=0.5, sensitivity=4_000_000)  # upper 40,000.00 at scale 2
    assert release.sum_scale == 4_000_000 / 0.25
    noise = [release.sum_noise() for _ in range(400)]
    assert 0.5 * release.sum_scale < sum(abs(n) for n in noise) / len(noise) < 1.6 * release.sum_scale


# --- a deviating enterprise (docs/security/intersection-threat-model.md) -----------------------
# The reply is not proved. These two replies pass every check the portal makes (counts, points,
# ciphertexts, the total) and read what the noise should hide. They are expected failures until
# a proof of the reply closes the gap: then they pass, and strict=True makes that a failure to
# notice (drop the marker). Any error other than the final assertion is a real failure.
GAP = pytest.mark.xfail(strict=True, raises=AssertionError,
                        reason="the reply is not proved: threat model, 'A deviating party'")


def _deviating(keys, subjects, values, mine, values_of, masks_of, noise):
    """Offer in subject order (the attacker's trick does not need to know it), a reply whose
    W_j = values_of(j) and Z_j = Enc_E(masks_of(j, rho_j)), the portal's checks and answer;
    returns what the enterprise decrypts and the exact count."""
    transport, h, enterprise = keys
    n, n2 = transport.public_key.n, transport.public_key.n_squared
    scalar = random_scalar()
    points, cts = psi.offer_chunk(scalar, (int(n), int(transport.p), int(transport.q)), subjects, values)
    k_e = random_scalar()
    d = blind_points(k_e, points)
    w, z, total = [], [], 0
    for j in range(len(cts)):
        rho = int(psi.MASK_LOW) + j
        total += rho
        w.append(int(values_of(j, cts, n2) * pow(h, j + 1, n2) * (1 + rho * n) % n2))
        z.append(int(enterprise.raw_encrypt(masks_of(j, rho))))
    body = psi.Reply(sorted(blind_ids(k_e, mine)), d, w, z, total).body()
    ids, d, w, z, mask_total = psi.parse_reply(body, transport.public_key, enterprise.public_key, len(points), 100)
    psi.check_total(transport, w, mask_total, sum(values))  # passes: the total is kept
    positions = psi.matches(psi.blind_chunk(scalar, ids), d)
    answer = psi.answer(transport, enterprise.public_key, w, z, positions, noise)
    return psi.signed(enterprise.raw_decrypt(answer), enterprise.public_key.n), len(positions)


@GAP
def test_an_amplified_reply_reads_one_subjects_exact_value(keys):
    """W_j = V_j^c (c = 2^40) for every position but one, which carries V_0 / prod V_j^(c-1)
    so that the total holds; a one-id list then decrypts c * t + noise: the exact value."""
    subjects = [f"S{i:03d}" for i in range(8)]
    values = [300 + 7 * i for i in range(8)]
    c = 1 << 40

    def amplified(j, cts, n2):
        if j:
            return pow(cts[j], c, n2)
        rest = 1
        for other in cts[1:]:
            rest = rest * other % n2
        return cts[0] * pow(int(rest), -(c - 1), n2) % n2

    seen, _ = _deviating(keys, subjects, values, ["S005"], amplified, lambda j, rho: rho, noise=-(1 << 30))
    assert round(seen / c) != values[5], "the attacker read the target's exact value through the noise"


@GAP
def test_masks_that_differ_from_the_replys_read_the_exact_count(keys):
    """Honest W; Z_j = Enc_E(rho_j + 2^100): what decrypts is sum + noise - |J| * 2^100."""
    subjects = [f"S{i:03d}" for i in range(8)]
    shift = 1 << 100
    seen, exact = _deviating(keys, subjects, [50] * 8, ["S001", "S004", "S006", "nobody"],
                             lambda j, cts, n2: cts[j], lambda j, rho: rho + shift, noise=123_456)
    if exact != 3:
        raise RuntimeError(f"the test lists 3 members, the portal matched {exact}")
    assert round(-seen / shift) != exact, "the attacker read the exact count through the noise"
