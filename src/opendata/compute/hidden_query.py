"""Hidden query (匿踪查询): the server's arithmetic, as pure functions plus the process pool.

The resource's N subjects sit in a rows x cols grid (subject i at row i // cols, column
i % cols). The enterprise sends Enc(a) over the rows and Enc(b) over the columns, each a
proven one-hot vector (proofs/onehot.py), and learns the record of the one cell selected.

For each chunk k of the records (hidden_records.py: integers v[r][c] < N / 2^16):

1. column selection, for every row r: E_r = S * prod_c Enc(b_c)^v[r][c] = Enc(v[r][c*]) --
   a multi-exponentiation over the *same* column bases for every row (Straus, tables shared
   across rows). S = s^N is one fresh obfuscator shared by the rows of this chunk: the
   enterprise ever sees only one E_r (its own row's, through step 2), and without S that
   E_r's randomness, prod_c beta_c^v[r][c], would be a function of the other subjects of the
   row that a key holder with smooth p - 1 can solve (discrete logarithms).
2. row selection: E_r < N^2 is cut into lo + N * hi with lo, hi < N (Kushilevitz-Ostrovsky's
   recursion on plain Paillier), and the server returns Enc(lo_r*) = S_lo * prod_r
   Enc(a_r)^lo_r and Enc(hi_r*) likewise, each with its own fresh obfuscator. The key holder
   decrypts lo and hi, rebuilds E_r* and decrypts it to v[r*][c*].

One row (small N, or the linear baseline): step 1 only, over one vector of N entries.

Cost per chunk: about N * bits / 4 multiplications mod N^2 for step 1 (bits = the chunk's
width), rows * 2 * |N| / 4 for step 2, three obfuscators. Rows are split across the
worker processes (step 2's products are split with them and multiplied at the end); the
proofs are checked first, in slices across the workers, before anything is computed.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from opendata.compute import ComputeError
from opendata.compute.multiexp import WindowedMultiExp
from opendata.compute.paillier import PublicKey
from opendata.compute.proofs import ProofError
from opendata.compute.proofs.onehot import check_entries, check_sum, parse_one_hot

LINEAR_MAX_SUBJECTS = 64
MAX_SUBJECTS = 200_000  # ~7 MB of selection at 2,048 bits: under the 8 MB body limit
SELECTION_PROOF_INVALID = "selection_proof_invalid"
ROWS_PURPOSE = "hidden-query-rows"  # = parameters.HIDDEN_QUERY_ROWS (this module imports no DB code)
COLS_PURPOSE = "hidden-query-cols"


@dataclass(frozen=True)
class Layout:
    """Where each subject sits: ``rows`` x ``cols`` >= ``subjects``; rows == 1 is linear."""

    subjects: int
    rows: int
    cols: int

    @classmethod
    def for_subjects(cls, subjects: int, *, linear: bool = False, linear_max: int = LINEAR_MAX_SUBJECTS) -> Layout:
        if not 1 <= subjects <= MAX_SUBJECTS:
            raise ComputeError(f"a hidden query covers 1 to {MAX_SUBJECTS} subjects", code="too_many_subjects")
        if linear or subjects <= linear_max:
            return cls(subjects, 1, subjects)
        rows = math.isqrt(subjects - 1) + 1
        return cls(subjects, rows, -(-subjects // rows))

    def position(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.subjects:
            raise ValueError("index outside the layout")
        return divmod(index, self.cols)

    def grid(self, values: Sequence[int]) -> list[list[int]]:
        """One chunk's per-subject integers as rows of ``cols`` (empty cells 0)."""
        padded = list(values) + [0] * (self.rows * self.cols - len(values))
        return [padded[r * self.cols:(r + 1) * self.cols] for r in range(self.rows)]

    def to_json(self) -> dict[str, int]:
        return {"subjects": self.subjects, "rows": self.rows, "cols": self.cols}


@dataclass(frozen=True)
class Selection:
    """An enterprise's encrypted selection with its proofs (validated shapes, unverified proofs)."""

    rows: list[int] | None  # None for a linear layout
    cols: list[int]
    row_proof: Any
    col_proof: Any


def check_selection(public_key: PublicKey, layout: Layout, selection: Selection) -> None:
    """Sizes and ciphertexts fit the layout and key (400 selection_invalid otherwise)."""
    if (selection.rows is None) != (layout.rows == 1):
        raise ComputeError("a linear layout takes only cols; a grid takes rows and cols", code="selection_invalid")
    if len(selection.cols) != layout.cols or (selection.rows is not None and len(selection.rows) != layout.rows):
        raise ComputeError(f"the layout is {layout.rows} x {layout.cols}: send that many ciphertexts",
                           code="selection_invalid")
    for c in [*(selection.rows or ()), *selection.cols]:
        public_key.validate_ciphertext(c)


# --- worker functions (module level: they run in the process pool) ---------------------------

def _check_slice(n: int, cts: list[int], proof: Any, context: bytes, start: int, stop: int, with_sum: bool,
                 what: str) -> None:
    try:
        statement = parse_one_hot(n, cts, proof, context)
        if with_sum:
            check_sum(statement)
        check_entries(statement, start, stop)
    except ProofError as error:
        where = f"{what}[{error.index}]: " if error.index is not None else f"{what}: "
        # A plain ComputeError: it crosses the process boundary.
        raise ComputeError(f"the one-hot proof of {where}{error}", code=SELECTION_PROOF_INVALID) from None


def _obfuscators(n: int, count: int) -> list[int]:
    return [int(v) for v in PublicKey(n).obfuscators(count)]


def window_bits(uses: int, exponent_bits: int) -> int:
    """The Straus window that minimises tables (2^w per base, built once) plus lookups
    (one per w-bit window per use): wide when many rows share the same bases."""
    return min(range(2, 9), key=lambda w: (1 << w) + uses * -(-exponent_bits // w))


def _select_rows(n: int, cols: list[int], rows: list[int] | None, grids: list[list[list[int]]],
                 exponent_bits: int, shared: list[int]) -> list[list[int]]:
    """Per chunk: [E] (linear: the partial product over these columns) or [lo part, hi part]
    (grid: over these rows). ``grids[k]`` holds this worker's rows (or columns) of chunk k."""
    n = mpz(n)
    n_squared = n * n
    if rows is None:  # linear: ``cols`` and the single row's values are this worker's slice
        bases = WindowedMultiExp(cols, n_squared, exponent_bits=exponent_bits,
                                 window_bits=window_bits(len(grids), exponent_bits))
        return [[int(bases(grid[0]))] for grid in grids]
    # The column bases serve every row of every chunk here; the row bases both halves.
    columns = WindowedMultiExp(cols, n_squared, exponent_bits=exponent_bits,
                               window_bits=window_bits(len(rows) * len(grids), exponent_bits))
    bits = n.bit_length()
    row_bases = WindowedMultiExp(rows, n_squared, exponent_bits=bits, window_bits=window_bits(2 * len(grids), bits))
    out = []
    for grid, mask in zip(grids, shared):
        los, his = [], []
        for values in grid:
            e_r = columns(values) * mask % n_squared
            hi, lo = divmod(e_r, n)
            los.append(lo)
            his.append(hi)
        out.append([int(row_bases(los)), int(row_bases(his))])
    return out


# --- orchestration ---------------------------------------------------------------------------

def _slices(count: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(parts, count))
    size = -(-count // parts)
    return [(a, min(count, a + size)) for a in range(0, count, size)]


def _workers(executor: Executor | None) -> int:
    return getattr(executor, "_max_workers", 1) or 1


async def _run(executor: Executor | None, function: Any, *args: Any) -> Any:
    if executor is None:
        return function(*args)
    return await asyncio.get_running_loop().run_in_executor(executor, function, *args)


async def verify_selection_async(public_key: PublicKey, selection: Selection, contexts: tuple[bytes, bytes],
                                 executor: Executor | None, extra: Sequence[tuple[Any, ...]] = ()) -> list[Any]:
    """Check both proofs in slices across the workers (plus ``extra`` tasks run alongside,
    e.g. filling missing obfuscators); ComputeError selection_proof_invalid on failure."""
    n = int(public_key.n)
    tasks = []
    vectors = [("cols", selection.cols, selection.col_proof, contexts[1])]
    if selection.rows is not None:
        vectors.insert(0, ("rows", selection.rows, selection.row_proof, contexts[0]))
    total = sum(len(v[1]) for v in vectors)
    for what, cts, proof, context in vectors:
        share = max(1, round(_workers(executor) * len(cts) / total))
        for i, (a, b) in enumerate(_slices(len(cts), share)):
            tasks.append(_run(executor, _check_slice, n, [int(c) for c in cts], proof, context, a, b, i == 0, what))
    results = await asyncio.gather(*tasks, *(_run(executor, *task) for task in extra), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results[len(tasks):])


async def answer_async(public_key: PublicKey, layout: Layout, selection: Selection, chunks: Sequence[Sequence[int]],
                       exponent_bits: int, contexts: tuple[bytes, bytes], obfuscators: Sequence[int],
                       executor: Executor | None) -> list[list[str]]:
    """Verify the selection, then compute per chunk [Enc(v)] (linear) or [Enc(lo), Enc(hi)]
    (grid) for the selected cell. ``obfuscators``: ready ones from the key's pool (the
    rest are computed in a worker while the proofs are checked)."""
    n = int(public_key.n)
    n_squared = public_key.n_squared
    per_chunk = 1 if layout.rows == 1 else 3
    needed = per_chunk * len(chunks)
    ready = [int(v) for v in obfuscators][:needed]
    extra = [(_obfuscators, n, needed - len(ready))] if len(ready) < needed else []
    filled = await verify_selection_async(public_key, selection, contexts, executor, extra)
    masks = ready + (filled[0] if filled else [])
    grids = [layout.grid(values) for values in chunks]
    cols = [int(c) for c in selection.cols]
    if layout.rows == 1:
        parts = _slices(layout.cols, _workers(executor))
        partials = await asyncio.gather(*(
            _run(executor, _select_rows, n, cols[a:b], None, [[g[0][a:b]] for g in grids], exponent_bits, [])
            for a, b in parts))
        out = []
        for k in range(len(chunks)):
            value = mpz(masks[k])
            for part in partials:
                value = value * part[k][0] % n_squared
            out.append([str(value)])
        return out
    rows = [int(c) for c in selection.rows or ()]
    shared, finals = masks[:len(chunks)], masks[len(chunks):]
    parts = _slices(layout.rows, _workers(executor))
    partials = await asyncio.gather(*(
        _run(executor, _select_rows, n, cols, rows[a:b], [g[a:b] for g in grids], exponent_bits, shared)
        for a, b in parts))
    out = []
    for k in range(len(chunks)):
        lo, hi = mpz(finals[2 * k]), mpz(finals[2 * k + 1])
        for part in partials:
            lo = lo * part[k][0] % n_squared
            hi = hi * part[k][1] % n_squared
        out.append([str(lo), str(hi)])
    return out


def read_answer(decrypt: Any, n: int, layout: Layout, answer: Sequence[Sequence[Any]]) -> list[int]:
    """Key holder: the selected cell's chunk integers. ``decrypt`` maps a ciphertext to its
    residue in [0, N)."""
    values = []
    for chunk in answer:
        if layout.rows == 1:
            if len(chunk) != 1:
                raise ComputeError("a linear answer has one ciphertext per chunk", code="invalid_result")
            values.append(int(decrypt(int(chunk[0]))))
            continue
        if len(chunk) != 2:
            raise ComputeError("a grid answer has two ciphertexts per chunk", code="invalid_result")
        lo, hi = (int(decrypt(int(c))) for c in chunk)
        values.append(int(decrypt(hi * int(n) + lo)))
    return values
