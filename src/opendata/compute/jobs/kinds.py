"""What a job can compute: a registry of job kinds.

A kind is one registration (``register(JobKind(...))``): how to check a request and cut it
into chunks (``plan``, run inside the submission's transaction with the caller's audited
refusals, so a kind reuses the synchronous endpoint's checks instead of writing new ones),
and which members of the chunks' outputs the result merges. The runner, the engine, the
HTTP endpoints, the SDK and the pages know nothing about any particular kind.

A plan is in-memory state of the process that accepted the job (the portal process
coordinating it): if that process dies the job is failed, never resumed elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from sqlalchemy.orm import Session

from opendata.compute.callers import ComputeCaller, Refusals
from opendata.errors import bad_request


@dataclass
class ChunkTask:
    """One chunk's call for the engine (a module-level function: it pickles), plus what the
    plan needs to turn its result into the chunk's output."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    context: Any = None


@dataclass
class ChunkOutput:
    output: dict[str, Any]  # JSON stored for the result (ciphertexts only)
    audit: dict[str, Any]  # details of the chunk's audit record (digests, never values)


class JobPlan(Protocol):
    units: int  # quota units charged at submission: compute units, unless the plan has a
    # ``quota`` = (usage kind, daily limit) of its own (e.g. a hidden-query grant's)
    chunks: list[tuple[Any, int]]  # (JSON input stored with the chunk, its units)
    summary: dict[str, Any]  # public description (status and result header)
    audit: dict[str, Any]  # details of the submission's audit record

    def task(self, session: Session, index: int, chunk_input: Any) -> ChunkTask: ...

    def output(self, task: ChunkTask, result: Any, seconds: float) -> ChunkOutput: ...

    # Optional, for a kind whose result is computed from every chunk's output (an
    # intersection): ``conclude()`` (the coordinator's thread, outside any transaction) and
    # then ``record(session, job_id, concluded)`` in the transaction that marks the job
    # succeeded -- it stores the result and may refuse (an audited AppError: the job fails).


@dataclass
class PlanRequest:
    session: Session
    database: Any
    settings: Any  # the portal's Settings
    runtime: Any  # the ComputeRuntime
    caller: ComputeCaller
    refusals: Refusals
    body: dict[str, Any]


@dataclass(frozen=True)
class JobKind:
    name: str
    chunk_action: str  # the audit action of each chunk: the synchronous endpoint's
    plan: Callable[[PlanRequest], JobPlan]
    # (member, "object" | "array") merged across the chunks' outputs, given the summary.
    merged: Callable[[dict[str, Any]], list[tuple[str, str]]]
    members: tuple[str, ...] = field(default=())  # the request body's members besides "kind"
    optional: tuple[str, ...] = field(default=())
    # Called by state.settle in the transaction that ends an unfinished job (failed or
    # cancelled), with the job's licence, summary, new state, error code and who ended it
    # (actor, request): what the kind must close outside the job's own rows (an
    # intersection's session).
    ended: Callable[[Session, int, dict[str, Any], str, str | None, Any, Any], None] | None = None
    # A body up to upload_max_bytes rather than request_body_max_bytes (an intersection's
    # reply: ~2.5 KB per offered subject).
    large_body: bool = False


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    if kind.name in KINDS:
        raise ValueError(f"job kind {kind.name!r} is registered already")
    KINDS[kind.name] = kind
    return kind


def kind_of(name: Any) -> JobKind:
    _load_builtin_kinds()
    if not isinstance(name, str) or name not in KINDS:
        raise bad_request("unknown_kind", f"kind is one of {', '.join(sorted(KINDS))}")
    return KINDS[name]


def _load_builtin_kinds() -> None:
    from opendata.compute.jobs import hidden, intersection, scoring  # noqa: F401  (register the kinds)


def split(values: list[Any], size: int) -> list[list[Any]]:
    return [values[start:start + size] for start in range(0, len(values), size)]
