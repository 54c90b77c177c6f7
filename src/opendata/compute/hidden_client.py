"""Hidden query, the key holder's side: build a proven selection, read the answer.

Used by the SDK (client_compute.py) and the benchmark; pure, no HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opendata.compute.hidden_query import Layout, read_answer
from opendata.compute.hidden_records import RecordFormat, decode_record, typed_value
from opendata.compute.keyholder import KeyHolder
from opendata.compute.proofs.onehot import Randomizer, encrypt_bits, prove_one_hot

_randomizers: dict[str, Randomizer] = {}


def randomizer_for(key: KeyHolder) -> Randomizer:
    """The key holder's fast randomizer (its comb tables cost ~0.1 s once per key)."""
    kid = key.public_key.key_id
    if kid not in _randomizers:
        private = key.private_key
        if len(_randomizers) > 16:
            _randomizers.clear()
        _randomizers[kid] = Randomizer(int(private.p) * int(private.q), (int(private.p), int(private.q)))
    return _randomizers[kid]


def _vector(randomizer: Randomizer, size: int, index: int, context: bytes) -> tuple[list[str], dict]:
    cts, rhos = encrypt_bits(randomizer, [1 if j == index else 0 for j in range(size)])
    return [str(c) for c in cts], prove_one_hot(randomizer, cts, index, rhos, context)


def build_selection(key: KeyHolder, layout: Layout, index: int, contexts: tuple[bytes, bytes]) -> dict[str, Any]:
    """The ``selection`` part of a hidden-query body for subject number ``index``:
    {"rows": [...], "cols": [...], "proofs": {"rows": ..., "cols": ...}} (no rows if linear)."""
    row, col = layout.position(index)
    randomizer = randomizer_for(key)
    cols, col_proof = _vector(randomizer, layout.cols, col, contexts[1])
    body: dict[str, Any] = {"cols": cols, "proofs": {"cols": col_proof}}
    if layout.rows > 1:
        rows, row_proof = _vector(randomizer, layout.rows, row, contexts[0])
        body["rows"] = rows
        body["proofs"]["rows"] = row_proof
    return body


def read_record(key: KeyHolder, layout: Layout, fmt: RecordFormat, answer: Sequence[Sequence[Any]],
                fields: Sequence[str], types: Sequence[str]) -> dict[str, Any]:
    """{field: value} of the selected subject from the server's ciphertexts."""
    values = read_answer(key.decrypt_residue, int(key.public_key.n), layout, answer)
    texts = decode_record(fmt, values)
    if len(texts) != len(fields):
        raise ValueError(f"the answer holds {len(texts)} field(s), not {len(fields)}")
    return {name: typed_value(text, kind) for name, text, kind in zip(fields, texts, types)}
