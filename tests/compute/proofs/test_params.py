"""Ring-Pedersen parameters: Pi^prm, (de)serialisation, generation."""

from __future__ import annotations

import copy

import pytest

from opendata.compute.proofs import ProofError, RingPedersenParams, generate_ring_pedersen


def rejected(data, **options) -> ProofError:
    with pytest.raises(ProofError) as info:
        RingPedersenParams.from_json(data, **options)
    assert info.value.code == "parameters_invalid"
    return info.value


def test_published_form_has_no_factors_and_round_trips(portal_params, client_params):
    public = portal_params.to_json()
    assert "p" not in public and "q" not in public and public["type"] == "ring_pedersen"
    assert client_params == portal_params and client_params.secret is None
    with pytest.raises(ProofError):
        client_params.to_private_json()


@pytest.mark.parametrize(
    "mutate",
    [lambda d: d.update(s=str(int(d["s"]) + 1)),             # s no longer in <t>: proof fails
     lambda d: d.update(t=str(int(d["t"]) * 4 % int(d["n"]))),
     lambda d: d["proof"].update(e=("1" if d["proof"]["e"][0] == "0" else "0") + d["proof"]["e"][1:]),
     lambda d: d["proof"]["z"].__setitem__(7, str(int(d["proof"]["z"][7]) + 1)),
     lambda d: d["proof"]["z"].pop(), lambda d: d["proof"].update(e="2" * 80), lambda d: d.update(s="1"),
     lambda d: d.update(t=str(int(d["n"]) - 1)), lambda d: d.update(n=str(int(d["n"]) + 2)),
     lambda d: d.update(n="12"), lambda d: d.pop("proof"), lambda d: d.update(v="1"), lambda d: d.update(p="3")],
)
def test_tampered_parameters_are_rejected(portal_params, mutate):
    data = copy.deepcopy(portal_params.to_json())
    mutate(data)
    rejected(data)


def test_too_small_modulus_is_rejected(portal_params):
    rejected(portal_params.to_json(), min_bits=3072)


def test_private_form_checks_the_factors(portal_params):
    data = portal_params.to_private_json()
    assert RingPedersenParams.from_private_json(data).secret == portal_params.secret
    for forged in (dict(data, p=data["q"]), dict(data, p="7"), dict(data, type="ring_pedersen")):
        with pytest.raises(ProofError):
            RingPedersenParams.from_private_json(forged)


@pytest.mark.slow
def test_generate_small_parameters_verifies():
    params = generate_ring_pedersen(1024)
    assert params.n.bit_length() == 1024 and params.secret is not None
    assert RingPedersenParams.from_json(params.to_json(), min_bits=1024) == params
    with pytest.raises(ValueError):
        generate_ring_pedersen(1000 + 1)
