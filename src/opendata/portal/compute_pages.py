"""Privacy-preserving computation (数据可用不可见) in the workspaces.

- Enterprises register their Paillier *public* keys (the private key never leaves their
  machine), see them, revoke them, and follow their models: which features, which state,
  the administrator's reason.
- Administrators decide on models (approve or reject, always with a reason), judging the
  features and the output mode: a reviewed model's plaintext weights are shown; a decision
  or banded model's weights stay ciphertexts, range-proved, with the bound on what a result
  can reveal.

Models themselves are registered with the SDK (``OpenDataClient.register_model``): their
weights are encrypted with the owner's key on the owner's machine, and the API checks
them against the access token's licence. The pages use the compute package's services,
so the rules and the audit trail are the API's.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from opendata.audit.context import request_info
from opendata.compute import model_registry, public_keys
from opendata.compute.models import MODEL_STATES
from opendata.compute.runtime import runtime_of
from opendata.deps import AppSettings, DbSession
from opendata.errors import AppError, bad_request
from opendata.portal import forms
from opendata.portal.forms import FormData, FormError
from opendata.portal.page import Page, PortalPage
from opendata.portal.paging import paged

# A 2048-bit key with its proof is ~110 KB of JSON (80 rounds of Pi^mod); 4096 bits, twice that.
MAX_KEY_TEXT = 400_000
DECISIONS = ("approve", "reject")


def _compute_page(page: PortalPage, organisation_id: int, *, key_text: str = "", error: str | None = None,
                  status: int = 200) -> Response:
    session = page.session
    return page.render("workspace/compute.html", status=status, nav="workspace", key_text=key_text, error=error,
                       keys=public_keys.list_keys(session, organisation_id),
                       models=model_registry.list_models(session, organisation_id=organisation_id))


@get("/workspace/compute", name="portal-compute", sync_to_thread=True)
def compute_page(page: Page) -> Response:
    principal = page.require("enterprise", action="portal.compute")
    return _compute_page(page, principal.user.organisation_id)


def key_body(text: str) -> Any:
    """The pasted key as the API takes it: ``{"public_key": {...}, "proof": {...}}``, what
    ``KeyHolder.registration_body(parameters)`` prints; a bare key object is taken as the
    public key (and then refused for its missing proof, with that message)."""
    if not text:
        raise FormError("missing_key", "paste your public key (JSON)")
    try:
        value = json.loads(text)
    except ValueError:
        raise FormError("invalid_json", "the public key is not JSON") from None
    if isinstance(value, dict) and "public_key" not in value:
        value = {"public_key": value}
    return value


@post("/workspace/compute/keys", name="portal-compute-key-register", sync_to_thread=True)
def register_key(page: Page, db_session: DbSession, settings: AppSettings, data: FormData) -> Response:
    principal = page.require("enterprise", action="portal.compute.key.register")
    organisation_id = principal.user.organisation_id
    text = forms.text(data, "public_key", MAX_KEY_TEXT)
    try:
        limits = runtime_of(page.request).settings
        key, proof = public_keys.parse_public_key(key_body(text), limits)
        _row, created = public_keys.admit_key(db_session, organisation_id, key, proof, limits, settings,
                                              actor=principal.actor, request=request_info(page.request),
                                              executor=runtime_of(page.request).executor)
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _compute_page(page, organisation_id, key_text=text, error=page.t.error(error),
                             status=error.status if error.status != 404 else 400)
    return page.redirect("/workspace/compute", notice="key_registered" if created else "key_known")


@post("/workspace/compute/keys/{kid:str}/revoke", name="portal-compute-key-revoke", sync_to_thread=True)
def revoke_key(page: Page, db_session: DbSession, kid: FromPath[str]) -> Response:
    principal = page.require("enterprise", action="portal.compute.key.revoke")
    row = public_keys.own_key(db_session, principal.user.organisation_id, kid, usable=False)  # 404 if not ours
    public_keys.revoke_key(db_session, row, actor=principal.actor, request=request_info(page.request))
    db_session.commit()
    return page.redirect("/workspace/compute", notice="key_revoked")


def _models_page(page: PortalPage, state: str | None, *, error: str | None = None, failed: int | None = None,
                 status: int = 200) -> Response:
    listed = paged(page, page.session, model_registry.models_query(state=state), path="/admin/models")
    return page.render("admin/models.html", status=status, nav="admin", state=state, states=MODEL_STATES,
                       models=listed.items, listed=listed, error=error, failed=failed,
                       leakage=model_registry.leakage_of)


@get("/admin/models", name="portal-admin-models", sync_to_thread=True)
def models_page(page: Page) -> Response:
    page.require("admin", action="portal.admin.models")
    state = page.request.query_params.get("state", "pending")
    return _models_page(page, state if state in MODEL_STATES else None)


@post("/admin/models/{model_id:int}/decide", name="portal-admin-model-decide", sync_to_thread=True)
def decide_model(page: Page, db_session: DbSession, model_id: FromPath[int], data: FormData) -> Response:
    principal = page.require("admin", action="portal.admin.model.decide")
    decision = forms.text(data, "decision", 16)
    try:
        if decision not in DECISIONS:
            raise FormError("missing_decision", "choose approve or reject")
        reason = forms.text(data, "reason", 4000)
        if not reason:
            raise bad_request("missing_reason", "every decision needs a reason the enterprise will see")
        row = model_registry.get_model(db_session, model_id)
        mode = (forms.text(data, "output_mode", 16) or None) if decision == "approve" else None
        model_registry.decide(db_session, row, decision, reason, actor=principal.actor,
                              info=request_info(page.request), output_mode=mode)
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _models_page(page, "pending", error=page.t.error(error), failed=model_id,
                            status=error.status if error.status != 404 else 400)
    return page.redirect("/admin/models", notice={"approve": "model_approved", "reject": "model_rejected"}[decision])


HANDLERS = [compute_page, register_key, revoke_key, models_page, decide_model]
