"""The one exception every proof function raises on bad input or a failed check."""

from __future__ import annotations

from opendata.compute import ComputeError

KEY_PROOF_INVALID = "key_proof_invalid"
RANGE_PROOF_INVALID = "range_proof_invalid"
PARAMETERS_INVALID = "parameters_invalid"
SELECTION_PROOF_INVALID = "selection_proof_invalid"
CODES = frozenset({KEY_PROOF_INVALID, RANGE_PROOF_INVALID, PARAMETERS_INVALID, SELECTION_PROOF_INVALID})


class ProofError(ComputeError):
    """A proof (or the parameters it is checked against) is malformed or does not verify.

    ``code`` is one of ``key_proof_invalid``, ``range_proof_invalid``, ``parameters_invalid``,
    ``selection_proof_invalid``;
    ``str(error)`` says what was wrong, naming the field, never a secret. It is a
    :class:`~opendata.compute.ComputeError` (a ``ValueError``), so the compute service's
    existing error mapping turns it into a 400 with this code. ``index`` is the position of
    the bad item when a batch (``verify_ranges``) fails, else None.
    """

    def __init__(self, code: str, message: str, *, index: int | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown proof error code {code!r}")
        super().__init__(message, code=code)
        self.index = index
