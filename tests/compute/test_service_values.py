"""The pieces under the endpoints: value encoding shared by SDK and server, and settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from opendata.compute.runtime import ComputeRuntime, ComputeSettings
from opendata.compute.values import (
    ValueInputError,
    actual_integer,
    claim_integer,
    claim_scale,
    feature_integer,
    filter_value,
    string_integer,
)


@pytest.mark.parametrize(("claimed", "stored", "field_type", "equal"), [
    ("4614.00", Decimal("4614.00"), "decimal", True),
    ("4614", 4614.0, "decimal", True),  # SQLite hands decimals back as floats
    ("85.6", 85.6, "decimal", True),
    ("86", 85.6, "decimal", False),  # exact: never rounded to the claim's scale
    (35, 35, "integer", True),
    (True, True, "boolean", True),
    ("2024-06-01", date(2024, 6, 1), "date", True),
    ("91440113614232906E", "91440113614232906E", "string", True),
    ("广州市星佳资产管理有限公司", "广州市星佳资产管理有限公司", "string", True),
    ("91440113614232906E", "91440113614232906e", "string", False),
])
def test_key_holder_and_server_encode_equal_values_alike(claimed: object, stored: object, field_type: str,
                                                         equal: bool) -> None:
    scale = claim_scale(claimed) if field_type in ("decimal", "integer") else 0
    assert (claim_integer(claimed, field_type, scale) == actual_integer(stored, field_type, scale)) is equal


def test_stored_values_that_cannot_be_encoded_are_missing_never_errors() -> None:
    assert actual_integer(None, "decimal", 2) is None
    assert actual_integer(float("nan"), "number", 0) is None
    assert actual_integer(4614.49, "decimal", 0) is None  # not representable at scale 0
    assert actual_integer(10.0 ** 300, "number", 12) is None  # beyond any accepted key's range
    assert feature_integer(None, "integer", 0, 63) is None
    assert feature_integer(2 ** 63, "integer", 0, 63) is None
    assert feature_integer("Z", "string", 0, 63, {"A": "4"}) is None


def test_features_round_half_even_and_map_categories() -> None:
    assert feature_integer(85.65, "decimal", 1, 63) == 856
    assert feature_integer(Decimal("0.125"), "decimal", 2, 63) == 12
    assert feature_integer(True, "boolean", 0, 63) == 1
    assert feature_integer("M", "string", 1, 63, {"M": "2.5"}) == 25


def test_claims_refuse_what_they_cannot_encode() -> None:
    with pytest.raises(ValueInputError):
        claim_integer("4614.005", "decimal", 2)
    with pytest.raises(ValueInputError) as caught:
        claim_integer("x", "string", 1)
    assert caught.value.code == "scale_invalid"
    with pytest.raises(ValueInputError):
        claim_integer("yes", "boolean", 0)
    with pytest.raises(ValueInputError):
        claim_integer(1, "datetime", 0)
    assert claim_scale("8500.50") == 2 and claim_scale(8500) == 0 and claim_scale("1E+3") == 0


def test_string_digests_are_normalised_and_distinct() -> None:
    assert string_integer("\u00e9") == string_integer("e\u0301")  # NFC: one é, however typed
    assert string_integer("a") != string_integer("b") and string_integer("a").bit_length() <= 128


@pytest.mark.parametrize(("raw", "field_type", "value"), [
    ("2024-06-01", "date", date(2024, 6, 1)), (2023, "integer", 2023), ("2023", "integer", 2023),
    ("85.6", "decimal", Decimal("85.6")), (True, "boolean", True), ("天河区", "string", "天河区"),
])
def test_filters_take_their_field_type(raw: object, field_type: str, value: object) -> None:
    assert filter_value(raw, field_type) == value


@pytest.mark.parametrize(("raw", "field_type"), [
    ("June", "date"), (True, "integer"), ("1.5", "integer"), (1, "boolean"), (["a"], "string"), ("nan", "decimal"),
])
def test_filters_refuse_other_types(raw: object, field_type: str) -> None:
    with pytest.raises(ValueInputError) as caught:
        filter_value(raw, field_type)
    assert caught.value.code == "invalid_filter"


def test_settings_come_from_the_environment_and_are_checked() -> None:
    settings = ComputeSettings.from_env({"OPENDATA_COMPUTE_WORKERS": "3", "OPENDATA_COMPUTE_MAX_SCORE_BATCH": "100"})
    assert (settings.workers, settings.max_score_batch, settings.min_key_bits) == (3, 100, 2048)
    for bad in ({"OPENDATA_COMPUTE_WORKERS": "two"}, {"OPENDATA_COMPUTE_MIN_KEY_BITS": "1024"},
                {"OPENDATA_COMPUTE_WORKERS": "0"}, {"OPENDATA_COMPUTE_MAX_SCORE_BATCH": "20000"}):
        with pytest.raises(ValueError, match="OPENDATA_COMPUTE_"):
            ComputeSettings.from_env(bad)


def test_a_runtime_starts_nothing_until_used() -> None:
    runtime = ComputeRuntime(ComputeSettings(workers=1))
    assert runtime._executor is None and runtime._pools is None
    runtime.close()  # nothing to stop
    assert runtime._executor is None
