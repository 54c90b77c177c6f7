"""The hidden query's record codecs: each round-trips every record of a table, and the
format depends on the table only."""

from __future__ import annotations

import pytest

from opendata.compute import ComputeError
from opendata.compute.hidden_records import RecordFormat, decode_record, encode_table, field_text, typed_value


def round_trip(records, types, n_bits=2048):
    fmt, chunks = encode_table(records, n_bits, types)
    fmt = RecordFormat.from_json(fmt.to_json())
    return fmt, [decode_record(fmt, [chunk[i] for chunk in chunks]) for i in range(len(records))]


def test_numbers_and_dates_pack_as_fixed_point_integers():
    records = [["8617.05", "2024-01-01", "1"], [None, "2023-12-31", "0"], ["-3.5", None, None], ["0", "1969-05-02", "1"]]
    fmt, back = round_trip(records, ["decimal", "date", "boolean"])
    assert fmt.codec == "fixed" and fmt.exponent_bits < 48
    assert [[typed_value(t, k) for t, k in zip(r, ["decimal", "date", "boolean"])] for r in back] == \
        [[typed_value(t, k) for t, k in zip(r, ["decimal", "date", "boolean"])] for r in records]


def test_a_string_of_digits_keeps_its_leading_zeros():
    fmt, back = round_trip([["010203"], ["7"]], ["string"])
    assert fmt.codec == "digits" and back == [["010203"], ["7"]]


def test_text_falls_back_to_utf8_and_long_records_to_chunks():
    records = [["广州利誉百货股份有限公司" * 3, "A"], ["x", None]]
    fmt, back = round_trip(records, ["string", "string"], n_bits=512)
    assert fmt.codec == "utf8" and fmt.chunks > 1 and back == records
    with pytest.raises(ComputeError) as caught:
        encode_table([["y" * 2000]], 512, ["string"])
    assert caught.value.code == "record_too_long"


def test_the_format_depends_on_the_table_not_on_a_row():
    one = encode_table([["1.5"], ["22.25"]], 2048, ["decimal"])[0]
    other = encode_table([["22.25"], ["1.5"]], 2048, ["decimal"])[0]
    assert one == other


def test_field_texts_are_canonical():
    assert field_text(8500.5, "decimal") == "8500.5" and field_text(True, "boolean") == "1"
    assert field_text(None, "date") is None
