"""Property tests (bounded): round trips for random signed plaintexts and bounds, and that
no JSON value put in any proof field raises anything but ProofError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendata.compute.proofs import ProofError, prove_range, randomness_of, verify_range, verify_ranges

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.from_regex(r"-?[0-9]{1,700}", fullmatch=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@SETTINGS
@given(data=st.data(), bound=st.integers(min_value=1, max_value=256))
def test_random_signed_plaintexts_round_trip(holder, client_params, portal_params, context, data, bound):
    value = data.draw(st.integers(min_value=-(2**bound) + 1, max_value=2**bound - 1))
    p, q = int(holder.private_key.p), int(holder.private_key.q)
    n = p * q
    c = holder.encrypt_int(value)
    proof = prove_range(n, c, value, randomness_of(p, q, c), bound, client_params, context, factors=(p, q))
    verify_range(n, c, proof, bound, portal_params, context)
    verify_ranges(n, [(c, proof, bound), (c, proof, bound)], portal_params, context)


@SETTINGS
@given(field=st.sampled_from(["v", "type", "S", "A", "C", "z1", "z2", "z3", "extra"]), value=json_values)
def test_any_json_in_any_field_is_a_proof_error(holder, client_params, portal_params, context, field, value):
    p, q = int(holder.private_key.p), int(holder.private_key.q)
    n = p * q
    c = holder.encrypt_int(3)
    proof = prove_range(n, c, 3, randomness_of(p, q, c), 16, client_params, context, factors=(p, q))
    try:
        verify_range(n, c, dict(proof, **{field: value}), 16, portal_params, context)
    except ProofError as error:
        assert error.code == "range_proof_invalid" and str(error)
