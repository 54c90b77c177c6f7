"""HTTP endpoints of the compute service, under ``/api/v1/compute``. Thin: the logic is in
service.py (computations), model_registry.py, public_keys.py and policy.py.

Who may call what:

* keys -- an organisation's API client (access token) or enterprise user (session);
* verify, models (register), score -- an access token of a licence granting ``compute``;
* model decisions and policies -- administrators (session); enterprise users may read
  their own models and their licences' policies.

The two computations are async handlers: the database work runs in worker threads and the
arithmetic in the runtime's process pool, so the event loop only moves bytes.
"""

from __future__ import annotations

import time
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Annotated, Any, Awaitable, Callable

import anyio.to_thread
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, QueryParameter, RawBody

from opendata.access import licences
from opendata.access.principals import SESSION_TOKEN_PREFIX, bearer_token, require_user
from opendata.audit.context import request_info
from opendata.compute import ComputeError, model_registry, parameters, policy, protocols, public_keys, service
from opendata.compute.callers import Refusals, audited, authenticate, owner_of, require_grant
from opendata.compute.models import MODEL_STATES
from opendata.compute.runtime import runtime_of
from opendata.compute.usage import organisation_records
from opendata.compute.schemas import (
    KeyOut, ModelOut, PolicyOut, ScoreOut, VerifyOut, key_out, model_out, parse_approval, parse_json, parse_model,
    parse_policy, parse_reason,
)
from opendata.deps import AppDatabase, AppSettings, DbSession
from opendata.errors import AppError, bad_request

ADMINS = ("admin",)


def _incoming(request: Request, body: bytes) -> service.Incoming:
    return service.Incoming(bearer_token(request), request_info(request), body)


async def _compute(request: Request, database: AppDatabase, job: Any, action: str, target: str,
                   work: Callable[[], Awaitable[Any]]) -> Any:
    """Run the arithmetic; a failure there is audited like any refusal."""
    try:
        return await work()
    except BrokenProcessPool:
        runtime_of(request).discard_executor()
        error = AppError(503, "compute_unavailable", "a compute worker stopped; retry the request",
                         headers={"Retry-After": "1"})
    except ComputeError as exc:
        error = bad_request(exc.code, str(exc))
    await anyio.to_thread.run_sync(partial(service.record_failure, database, job.caller, action, target, error))
    error.audited = True  # type: ignore[attr-defined]  # record_failure did: no second record
    raise error


class ComputeController(Controller):
    path = "/api/v1/compute"
    tags = ["compute"]

    # --- keys -------------------------------------------------------------------------------

    @post("/keys", summary="Register your organisation's Paillier public key", status_code=201,
          sync_to_thread=True)
    def register_key(self, request: Request, db_session: DbSession, settings: AppSettings,
                     body: RawBody) -> Response[KeyOut]:
        runtime = runtime_of(request)
        refusals = Refusals(db_session, request_info(request), "compute.key.register")
        owner = owner_of(request, db_session, settings, bearer_token(request), refusals)
        with audited(refusals):
            key, proof = public_keys.parse_public_key(parse_json(body), runtime.settings)
            refusals.target = f"compute-key:{key.key_id}"
            row, created = public_keys.admit_key(db_session, owner.organisation_id, key, proof, runtime.settings,
                                                 settings, actor=owner.actor, request=owner.request,
                                                 executor=runtime.executor)
        db_session.commit()
        # No obfuscator pool is started here: it is filled on the key's first computation.
        return Response(key_out(row), status_code=201 if created else 200)

    @get("/parameters", summary="What a key holder proves against: the portal's ring-Pedersen parameters "
         "(with their proof), the portal and organisation names bound into every proof, the bounds",
         sync_to_thread=True)
    def proof_parameters(self, request: Request, db_session: DbSession, settings: AppSettings) -> dict[str, Any]:
        refusals = Refusals(db_session, request_info(request), "compute.parameters.read")
        owner = owner_of(request, db_session, settings, bearer_token(request), refusals)
        params = parameters.ring_pedersen(db_session)
        return parameters.published(settings, params, owner.organisation_id)

    @get("/keys", summary="Your organisation's registered keys", sync_to_thread=True)
    def list_keys(self, request: Request, db_session: DbSession, settings: AppSettings) -> list[KeyOut]:
        refusals = Refusals(db_session, request_info(request), "compute.key.list")
        owner = owner_of(request, db_session, settings, bearer_token(request), refusals)
        return [key_out(row) for row in public_keys.list_keys(db_session, owner.organisation_id)]

    @post("/keys/{kid:str}/revoke", summary="Revoke a key: it can no longer compute", status_code=200,
          sync_to_thread=True)
    def revoke_key(self, request: Request, db_session: DbSession, settings: AppSettings,
                   kid: FromPath[str]) -> KeyOut:
        refusals = Refusals(db_session, request_info(request), "compute.key.revoke", f"compute-key:{kid[:40]}")
        owner = owner_of(request, db_session, settings, bearer_token(request), refusals)
        with audited(refusals):
            row = public_keys.own_key(db_session, owner.organisation_id, kid, usable=False)
            public_keys.revoke_key(db_session, row, actor=owner.actor, request=owner.request)
        db_session.commit()
        return key_out(row)

    # --- usage ------------------------------------------------------------------------------

    @get("/usage", summary="Your organisation's compute records (allow-listed details: no found, no durations)",
         sync_to_thread=True)
    def usage(self, request: Request, db_session: DbSession, settings: AppSettings) -> list[dict[str, Any]]:
        refusals = Refusals(db_session, request_info(request), "compute.usage.read")
        owner = owner_of(request, db_session, settings, bearer_token(request), refusals)
        return [record.as_json() for record in
                organisation_records(db_session, owner.organisation_id, action_prefix="compute.")]

    # --- verification and scoring ---------------------------------------------------------

    @post("/verify", summary="Verify encrypted claims against a subject's row (核验)", status_code=200)
    async def verify(self, request: Request, database: AppDatabase, settings: AppSettings) -> VerifyOut:
        runtime = runtime_of(request)
        incoming = _incoming(request, await request.body())
        job = await anyio.to_thread.run_sync(
            partial(service.prepare_verification, database, settings, runtime, incoming))
        started = time.perf_counter()

        async def work() -> dict[str, int] | None:
            try:
                return await protocols.verify_claims_async(
                    job.public_key, job.claims, job.actual, runtime.pool_for(job.public_key),
                    executor=runtime.executor, reveal_not_found=job.reveal_not_found,
                    max_fields=runtime.settings.max_verify_fields, checks=job.checks)
            except protocols.SubjectNotFoundError:
                return None

        results = await _compute(request, database, job, "compute.verify", f"dataset:{job.dataset_id}", work)
        return await anyio.to_thread.run_sync(
            partial(service.finish_verification, database, job, results, time.perf_counter() - started))

    @post("/models/{model_id:int}/score", summary="Score subjects with an approved model (模型服务)",
          status_code=200)
    async def score(self, request: Request, database: AppDatabase, settings: AppSettings,
                    model_id: FromPath[int]) -> ScoreOut:
        runtime = runtime_of(request)
        incoming = _incoming(request, await request.body())
        job = await anyio.to_thread.run_sync(
            partial(service.prepare_scoring, database, settings, runtime, incoming, model_id))
        started = time.perf_counter()

        async def work() -> list[Any]:
            return await protocols.score_batch_async(
                job.public_key, job.enc_weights, job.enc_bias, job.rows, runtime.pool_for(job.public_key),
                executor=runtime.executor, max_subjects=runtime.settings.max_score_batch, blinding=job.blinding)

        results = await _compute(request, database, job, "compute.score", f"model:{model_id}", work)
        return await anyio.to_thread.run_sync(
            partial(service.finish_scoring, database, job, results, time.perf_counter() - started))

    # --- models -----------------------------------------------------------------------------

    @post("/models", summary="Register a private linear model (pending approval)", status_code=201,
          sync_to_thread=True)
    def register_model(self, request: Request, db_session: DbSession, settings: AppSettings,
                       body: RawBody) -> ModelOut:
        runtime = runtime_of(request)
        refusals = Refusals(db_session, request_info(request), "compute.model.register")
        caller = authenticate(db_session, settings, bearer_token(request), refusals)
        with audited(refusals):
            data = parse_model(parse_json(body), runtime.settings.max_model_features)
            key_row = public_keys.own_key(db_session, caller.organisation_id, data.key_id)
            public_key = runtime.public_key(key_row.kid, key_row.n)
            features = model_registry.resolve_features(db_session, data)
            for feature in features:
                require_grant(refusals, caller, feature.source.dataset_id, feature.licensed_fields)
            row = model_registry.register(db_session, data, features, public_key, licence_id=caller.licence_id,
                                          organisation_id=caller.organisation_id, actor=caller.actor,
                                          info=caller.request, portal_settings=settings)
        db_session.commit()
        return model_out(row)

    @get("/models", summary="Models: your licence's or organisation's, or all for administrators",
         sync_to_thread=True)
    def list_models(self, request: Request, db_session: DbSession, settings: AppSettings,
                    wanted_state: Annotated[str | None, QueryParameter(name="state")] = None) -> list[ModelOut]:
        if wanted_state is not None and wanted_state not in MODEL_STATES:
            raise bad_request("invalid_state", f"state is one of {', '.join(MODEL_STATES)}")
        organisation_id, licence_id = _viewer(request, db_session, settings, "compute.model.list")
        rows = model_registry.list_models(db_session, organisation_id=organisation_id, licence_id=licence_id,
                                          state=wanted_state)
        return [model_out(row) for row in rows]

    @get("/models/{model_id:int}", summary="A model: features, state, digest and decision", sync_to_thread=True)
    def read_model(self, request: Request, db_session: DbSession, settings: AppSettings,
                   model_id: FromPath[int]) -> ModelOut:
        organisation_id, _ = _viewer(request, db_session, settings, "compute.model.read", f"model:{model_id}")
        refusals = Refusals(db_session, request_info(request), "compute.model.read", f"model:{model_id}")
        with audited(refusals):
            return model_out(model_registry.get_model(db_session, model_id, organisation_id))

    @post("/models/{model_id:int}/approve", summary="Approve a model's features (administrators)",
          status_code=200, sync_to_thread=True)
    def approve(self, request: Request, db_session: DbSession, model_id: FromPath[int], body: RawBody) -> ModelOut:
        return _decide(request, db_session, model_id, body, "approve")

    @post("/models/{model_id:int}/reject", summary="Reject a model (administrators)", status_code=200,
          sync_to_thread=True)
    def reject(self, request: Request, db_session: DbSession, model_id: FromPath[int], body: RawBody) -> ModelOut:
        return _decide(request, db_session, model_id, body, "reject")

    # --- policies ---------------------------------------------------------------------------

    @get("/policies/{licence_id:int}", summary="A licence's compute policy", sync_to_thread=True)
    def read_policy(self, request: Request, db_session: DbSession, licence_id: FromPath[int]) -> PolicyOut:
        read_licence(request, db_session, licence_id, "compute.policy.read")
        return _policy_out(db_session, licence_id)

    @put("/policies/{licence_id:int}", summary="Set a licence's compute policy (administrators)",
         sync_to_thread=True)
    def set_policy(self, request: Request, db_session: DbSession, licence_id: FromPath[int],
                   body: RawBody) -> PolicyOut:
        target = f"licence:{licence_id}"
        principal = require_user(request, db_session, action="compute.policy.update", roles=ADMINS, target=target)
        refusals = Refusals(db_session, request_info(request), "compute.policy.update", target, principal.actor)
        with audited(refusals):
            reveal, raw_subjects, all_subjects = parse_policy(parse_json(body))
            subjects = policy.check_subject_list(raw_subjects, runtime_of(request).settings.max_authorised_subjects,
                                                 all_subjects)
            policy.set_policy(db_session, licence_id, reveal, subjects, actor=principal.actor,
                              request=refusals.request, all_subjects=all_subjects)
        db_session.commit()
        return _policy_out(db_session, licence_id)


def read_licence(request: Request, session: DbSession, licence_id: int, action: str) -> None:
    """An administrator, or an enterprise user of the licence's organisation (404 otherwise)."""
    target = f"licence:{licence_id}"
    principal = require_user(request, session, action=action, roles=("enterprise", "admin"), target=target)
    refusals = Refusals(session, request_info(request), action, target, principal.actor)
    organisation_id = None if principal.user.role == "admin" else principal.user.organisation_id
    with audited(refusals):
        licences.get_licence(session, licence_id, organisation_id)


def put_grants(request: Request, session: DbSession, licence_id: int, body: bytes, action: str,
               parse: Callable[..., Any], store: Callable[..., Any]) -> None:
    """An administrator replaces a licence's grants of one kind (hidden query, intersection):
    ``store(session, licence, parse(session, body), actor=, request=)``, audited, committed."""
    target = f"licence:{licence_id}"
    principal = require_user(request, session, action=action, roles=ADMINS, target=target)
    refusals = Refusals(session, request_info(request), action, target, principal.actor)
    with audited(refusals):
        store(session, licence_id, parse(session, parse_json(body)), actor=principal.actor, request=refusals.request)
    session.commit()


def _viewer(request: Request, session: DbSession, settings: AppSettings, action: str,
            target: str | None = None) -> tuple[int | None, int | None]:
    """(organisation, licence) whose models the caller may see; (None, None) for administrators."""
    raw = bearer_token(request)
    refusals = Refusals(session, request_info(request), action, target)
    if raw is not None and not raw.startswith(SESSION_TOKEN_PREFIX):
        caller = authenticate(session, settings, raw, refusals)
        return caller.organisation_id, caller.licence_id
    principal = require_user(request, session, action=action, roles=("enterprise", "admin"), target=target)
    if principal.user.role == "admin":
        return None, None
    return principal.user.organisation_id or -1, None


def _decide(request: Request, session: DbSession, model_id: int, body: bytes, decision: str) -> ModelOut:
    action, target = f"compute.model.{decision}", f"model:{model_id}"
    principal = require_user(request, session, action=action, roles=ADMINS, target=target)
    refusals = Refusals(session, request_info(request), action, target, principal.actor)
    with audited(refusals):
        body_json = parse_json(body)
        reason, mode = parse_approval(body_json) if decision == "approve" else (parse_reason(body_json), None)
        row = model_registry.get_model(session, model_id)
        model_registry.decide(session, row, decision, reason, actor=principal.actor, info=refusals.request,
                              output_mode=mode)
    session.commit()
    return model_out(row)


def _policy_out(session: DbSession, licence_id: int) -> PolicyOut:
    current = policy.policy_of(session, licence_id)
    subjects = [] if current.all_subjects else policy.authorised_subjects(session, licence_id)
    return PolicyOut(licence_id, current.reveal_not_found, current.all_subjects, subjects,
                     policy.ALL_SUBJECTS_WARNING if current.all_subjects else None)


def _handlers() -> list[type[Controller]]:
    from opendata.compute.hidden_api import HiddenQueryController  # imports this module's helpers
    from opendata.compute.jobs.api import JobsController
    from opendata.compute.psi_api import IntersectionController

    return [ComputeController, HiddenQueryController, JobsController, IntersectionController]


COMPUTE_HANDLERS = _handlers()
