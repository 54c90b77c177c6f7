"""The ``score`` job kind: a scoring model over a whole list of subjects (a bank's customer
book), in chunks of ``OPENDATA_COMPUTE_JOB_CHUNK_SUBJECTS``.

The checks are the synchronous endpoint's (service.scoring_checks: model approved and
intact, grants, authorised subjects, quota, per-subject caps), run once over the whole list
at submission; the per-subject caps are counted then too. Each chunk reads its subjects'
features when it is handed to the engine (memory stays one chunk per task in flight) and is
audited as a ``compute.score`` with the job's id: the regulator finds every subject of a
job by its digest exactly as for a synchronous scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from opendata.compute import probing
from opendata.compute.features import feature_matrix
from opendata.compute.jobs.kinds import ChunkOutput, ChunkTask, JobKind, PlanRequest, register, split
from opendata.compute.protocols import score_call
from opendata.compute.schemas import parse_score
from opendata.compute.service import OUTPUT_KEYS, ScoringChecks, digest, score_outputs, scoring_checks
from opendata.errors import bad_request


@dataclass
class ScorePlan:
    checked: ScoringChecks
    positions: dict[str, int]  # subject -> its index in the request (typed values, digests)
    units: int
    chunks: list[tuple[Any, int]]
    summary: dict[str, Any]
    audit: dict[str, Any] = field(default_factory=dict)

    def task(self, session: Session, index: int, chunk_input: Any) -> ChunkTask:
        subjects = [str(s) for s in chunk_input]
        at = [self.positions[s] for s in subjects]
        typed = [[column[i] for i in at] for column in self.checked.typed]
        matrix, found = feature_matrix(session, self.checked.features, subjects, typed)
        reveal = self.checked.reveal_not_found
        scored = [(s, x) for s, x in zip(subjects, matrix) if not reveal or s in found]
        c = self.checked
        fn, args = score_call(c.public_key, c.enc_weights, c.enc_bias, [x for _, x in scored], blinding=c.blinding)
        not_found = [s for s in subjects if s not in found] if reveal else None
        return ChunkTask(fn, args, ([s for s, _ in scored], not_found, [c.digests[i] for i in at], len(found)))

    def output(self, task: ChunkTask, result: Any, seconds: float) -> ChunkOutput:
        scored, not_found, digests, found = task.context
        outputs = score_outputs(self.checked.output_mode, scored, result)
        out: dict[str, Any] = {OUTPUT_KEYS[self.checked.output_mode]: outputs}
        if not_found is not None:
            out["not_found"] = not_found
        c = self.checked
        audit = {"model": c.model_id, "digest": c.model_digest, "key": c.key_id, "features": c.feature_names,
                 "subjects": digests, "found": found, "output_mode": c.output_mode, "outputs": digest(outputs),
                 "duration_ms": round(seconds * 1e3, 1)}
        return ChunkOutput(out, audit)


def _plan(request: PlanRequest) -> ScorePlan:
    body, runtime = request.body, request.runtime
    model_id = body.get("model_id")
    if isinstance(model_id, bool) or not isinstance(model_id, int) or not 0 < model_id < 2**31:
        raise bad_request("invalid_model", "model_id is the id of an approved model of this licence")
    request.refusals.target = f"model:{model_id}"
    subjects = parse_score({"subjects": body.get("subjects")}, runtime.settings.job_max_subjects)
    checked = scoring_checks(request.session, request.database, runtime, request.caller, request.refusals,
                             model_id, subjects)
    caller = request.caller
    # Counted now, for the whole list: the caps bound what a licence asks about a subject.
    probing.charge(request.session, checked.caps, caller.licence_id, checked.digests, (), checked.probed,
                   actor=caller.actor, request=caller.request, action="compute.score")
    texts = [str(s) for s in subjects]
    chunks = [(part, len(part)) for part in split(texts, runtime.settings.job_chunk_subjects)]
    summary = {"model_id": model_id, "key_id": checked.key_id, "score_scale": checked.score_scale,
               "output_mode": checked.output_mode, "subjects": len(subjects),
               "reveal_not_found": checked.reveal_not_found}
    audit = {"model": model_id, "digest": checked.model_digest, "subjects_count": len(subjects),
             "inputs": digest({"model": checked.model_digest, "subjects": subjects}, checked.secret)}
    return ScorePlan(checked, {s: i for i, s in enumerate(texts)}, len(subjects), chunks, summary, audit)


def _merged(summary: dict[str, Any]) -> list[tuple[str, str]]:
    members = [(OUTPUT_KEYS[summary["output_mode"]], "object")]
    return members + ([("not_found", "array")] if summary.get("reveal_not_found") else [])


SCORE = register(JobKind("score", "compute.score", _plan, _merged, ("model_id", "subjects")))
