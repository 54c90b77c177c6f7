"""The SDK's compute methods (数据可用不可见), mixed into OpenDataClient.

The key holder (p and q) lives only in this process: requests carry the public key, its
proof of well-formedness, ciphertexts with their range proofs and plaintext metadata --
never the private key. Proofs are made against the portal's published parameters, fetched
once per client (GET /api/v1/compute/parameters; their own proof, Pi^prm, is checked here).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decimal import Decimal

    from opendata.compute.keyholder import KeyHolder

OUTPUT_MODES = ("reviewed", "decision", "banded")


class ComputeMethods:
    """Mixed into OpenDataClient, whose _get, _post and dataset these methods call."""

    key: "KeyHolder | None"
    _proof_setup: dict[str, Any] | None

    @staticmethod
    def generate_keypair(bits: int = 2048) -> "KeyHolder":
        """A fresh Paillier-Blum key holder (~0.2 s at 2048 bits). Keep it secret: save it
        with save_key() only to a place as safe as a password store."""
        from opendata.compute.keyholder import generate_keypair

        return generate_keypair(bits)

    @staticmethod
    def save_key(key: "KeyHolder", path: str | os.PathLike[str]) -> Path:
        """Write the key holder (including p and q) as JSON, readable by its owner only."""
        import json

        target = Path(path)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(key.to_dict(), out)
        os.chmod(target, 0o600)  # also when the file existed with wider permissions
        return target

    @staticmethod
    def load_key(path: str | os.PathLike[str]) -> "KeyHolder":
        import json

        from opendata.compute.keyholder import KeyHolder

        return KeyHolder.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def _key(self) -> "KeyHolder":
        if self.key is None:
            raise ValueError("this client has no key: pass key=OpenDataClient.generate_keypair() (or load_key)")
        return self.key

    # -- proofs ----------------------------------------------------------------------------

    def proof_parameters(self) -> dict[str, Any]:
        """The portal's parameters (verified) and the names every proof is bound to."""
        if self._proof_setup is None:
            from opendata.compute.proofs import RingPedersenParams

            answer = self._get("/api/v1/compute/parameters")
            self._proof_setup = {**answer, "params": RingPedersenParams.from_json(answer["ring_pedersen"])}
        return self._proof_setup

    def _context(self, purpose: str) -> bytes:
        from opendata.compute.proofs import proof_context

        setup = self.proof_parameters()
        return proof_context(setup["portal"], setup["organisation"], self._key().public_key.key_id, purpose)

    def _proved(self, value: int, bits: int, purpose: str) -> tuple[str, dict]:
        return self._key().encrypt_proved(value, bits, self.proof_parameters()["params"], self._context(purpose))

    def register_key(self) -> dict[str, Any]:
        """Register the public half of ``key`` with its proof (idempotent; a key registered
        before proofs existed is proved by registering it again)."""
        key = self._key()
        proof = key.prove_key(self.proof_parameters()["params"], self._context("key-registration"))
        return self._post("/api/v1/compute/keys", {"public_key": key.public_key_dict(), "proof": proof})

    # -- verification ----------------------------------------------------------------------

    def _claim_fields(self, dataset_id: str, resource_id: str | None) -> tuple[str, dict[str, str]]:
        """(resource id, field -> type) of the resource a verification reads, from the catalogue."""
        cached = self._field_types.get((dataset_id, resource_id))  # type: ignore[attr-defined]
        if cached is None:
            resources = self.dataset(dataset_id)["resources"]
            if resource_id is None:
                keyed = [r for r in resources if r.get("subject_key")]
                if len(keyed) != 1:
                    raise ValueError(f"dataset {dataset_id!r} has {len(keyed)} resources with a subject key: "
                                     "name the resource")
                resource = keyed[0]
            else:
                resource = next((r for r in resources if r["id"] == resource_id), None)
                if resource is None:
                    raise ValueError(f"dataset {dataset_id!r} has no resource {resource_id!r}")
            cached = resource["id"], {f["name"]: f["type"] for f in resource["fields"]}
            self._field_types[(dataset_id, resource_id)] = cached  # type: ignore[attr-defined]
        return cached

    def verify(self, dataset_id: str, subject: str, claims: Mapping[str, Any], *,
               where: Mapping[str, Any] | None = None, resource_id: str | None = None) -> dict[str, bool]:
        """Does each claimed value equal the subject's stored one? ``{field: True/False}``.

        Values are compared exactly (8500 equals 8500.00, not 8500.4); strings and dates too.
        A subject without a matching row answers False for every field -- unless your licence
        reveals "not found", then OpenDataError 404 subject_not_found is raised."""
        from opendata.compute.inputs import CLAIM_BOUND_BITS
        from opendata.compute.values import NUMERIC_TYPES, claim_integer, claim_scale

        key = self._key()
        resource, types = self._claim_fields(dataset_id, resource_id)
        body_claims = {}
        for name, value in claims.items():
            if name not in types:
                raise ValueError(f"{dataset_id}/{resource} has no field {name!r}")
            if types[name] == "boolean" and isinstance(value, str):  # from a command line
                value = {"true": True, "false": False}.get(value.strip().lower(), value)
            scale = claim_scale(value) if types[name] in NUMERIC_TYPES else 0
            ciphertext, proof = self._proved(claim_integer(value, types[name], scale), CLAIM_BOUND_BITS,
                                             "verify-claim")
            body_claims[name] = {"ciphertext": ciphertext, "scale": scale, "proof": proof}
        body: dict[str, Any] = {"dataset": dataset_id, "resource": resource, "subject": subject,
                                "key_id": key.public_key.key_id, "claims": body_claims}
        if where:
            body["where"] = dict(where)
        answer = self._post("/api/v1/compute/verify", body)
        return key.verification_results(answer["results"])

    # -- models and scoring ----------------------------------------------------------------

    def register_model(self, name: str, features: Sequence[Mapping[str, Any]], weights: Sequence[Any],
                       bias: Any, score_scale: int, *, output_mode: str = "reviewed",
                       thresholds: Sequence[Any] = (), weight_bits: int = 32, bias_bits: int = 64) -> int:
        """Register a linear model; it scores once an administrator approves it (docs/compute.md).

        ``output_mode``: ``"reviewed"`` sends the plaintext weights and bias for the
        administrator to read (the portal encrypts them; exact scores); ``"decision"`` (one
        threshold) or ``"banded"`` (2 to 8 ascending thresholds) keeps them secret: weights,
        bias and thresholds are encrypted and range-proved here (|w| < 2^weight_bits,
        |b|, |t| < 2^bias_bits in fixed point), and scoring tells only the side or band."""
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"output_mode is one of {', '.join(OUTPUT_MODES)}")
        key = self._key()
        scales = [int(f.get("scale", 0)) for f in features]
        body: dict[str, Any] = {"name": name, "key_id": key.public_key.key_id, "features": [dict(f) for f in features],
                                "score_scale": score_scale, "output_mode": output_mode}
        if output_mode == "reviewed":
            if thresholds:
                raise ValueError("a reviewed model returns exact scores: it has no thresholds")
            key.weight_scales(scales, score_scale, len(weights))  # the server would refuse what this refuses
            body.update(weights=[str(w) for w in weights], bias=str(bias))
        else:
            body.update(key.encrypt_model_proved(list(weights), bias, list(thresholds), scales, score_scale,
                                                 weight_bits, bias_bits, self.proof_parameters()["params"],
                                                 self._context("model-input")))
        return int(self._post("/api/v1/compute/models", body)["id"])

    def model(self, model_id: int) -> dict[str, Any]:
        return self._get(f"/api/v1/compute/models/{int(model_id)}")

    def score(self, model_id: int, subjects: Sequence[str]) -> dict[str, "Decimal | bool | int"]:
        """Decrypted here, by the model's output mode: ``{subject: w.x + b}`` (reviewed),
        ``{subject: True if at or above the threshold}`` (decision), ``{subject: band 0..k}``
        (banded: how many thresholds the score reaches). Subjects the licence reports as not
        found (only if its policy reveals that) are left out."""
        from opendata.client_jobs import decode_result

        key = self._key()
        answer = self._post(f"/api/v1/compute/models/{int(model_id)}/score", {"subjects": list(subjects)})
        return decode_result(key, answer)

    # -- hidden query (匿踪查询) -------------------------------------------------------------

    def hidden_query_layout(self, dataset_id: str, fields: Sequence[str], *, resource_id: str | None = None,
                            where: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The directory (subject keys in order), grid and record format of a resource for
        ``fields`` (and ``where`` filters leaving one row per subject, e.g. a month), as this
        licence's hidden queries see it."""
        params = {"dataset": dataset_id, "fields": ",".join(fields), "key_id": self._key().public_key.key_id}
        if resource_id is not None:
            params["resource"] = resource_id
        params.update({f"where.{name}": str(value) for name, value in (where or {}).items()})
        return self._get("/api/v1/compute/hidden-query/layout", params)

    def hidden_query(self, dataset_id: str, subject: str, fields: Sequence[str], *, resource_id: str | None = None,
                     where: Mapping[str, Any] | None = None, layout: Mapping[str, Any] | None = None,
                     ) -> dict[str, Any]:
        """``{field: value}`` of one subject, read without the portal learning which subject:
        the selection is encrypted and proved one-hot here, the answer decrypted here.
        ``layout`` (from hidden_query_layout) saves a round trip for several queries;
        raises ValueError for a subject the resource does not have (told by the directory,
        not by the query)."""
        from opendata.compute.hidden_client import build_selection, read_record
        from opendata.compute.hidden_query import COLS_PURPOSE, ROWS_PURPOSE, Layout
        from opendata.compute.hidden_records import RecordFormat

        key = self._key()
        layout = dict(layout or self.hidden_query_layout(dataset_id, fields, resource_id=resource_id, where=where))
        subjects = layout["subjects"]
        position = _position(subjects, subject)
        grid = Layout(**layout["layout"])
        selection = build_selection(key, grid, position, (self._context(ROWS_PURPOSE), self._context(COLS_PURPOSE)))
        body = {"dataset": layout["dataset"], "resource": layout["resource"], "fields": list(layout["fields"]),
                "key_id": key.public_key.key_id, "layout": layout["digest"], "selection": selection}
        if layout.get("where"):
            body["where"] = dict(layout["where"])
        answer = self._post("/api/v1/compute/hidden-query", body)
        return read_record(key, grid, RecordFormat.from_json(layout["format"]), answer["answer"], layout["fields"],
                           layout["types"])


    # -- private intersection statistics (联合统计) -------------------------------------------

    def intersection_grants(self) -> list[dict[str, Any]]:
        """This licence's intersection grants: fields and bounds, epsilon per query, spent,
        left, queries left, minimum cohort, most ids per query, sessions a day."""
        return self._get("/api/v1/compute/intersection/grants")["grants"]

    def intersection_stats(self, dataset_id: str, field: str, ids: Sequence[Any], *, resource_id: str | None = None,
                           where: Mapping[str, Any] | None = None, workers: int = 1) -> Any:
        """Count, sum and mean of ``field`` over the intersection of ``ids`` with the
        resource's subjects, differentially private, without the portal seeing the ids or
        this process seeing which matched. Spends the grant's epsilon per query. Returns
        an ``IntersectionStats`` (``suppressed`` when the noised count is below the
        minimum cohort). ``workers``: processes for the reply on long lists."""
        from opendata.compute.psi_client import read_answer

        key, session, reply = self._intersection_reply(dataset_id, field, ids, resource_id, where, workers)
        answer = self._post(f"/api/v1/compute/intersection/sessions/{session}", reply)
        return read_answer(answer, key.private_key)

    def _intersection_reply(self, dataset_id: str, field: str, ids: Sequence[Any], resource_id: str | None,
                            where: Mapping[str, Any] | None, workers: int) -> tuple[Any, str, dict[str, Any]]:
        """Open a session (the portal's offer) and build this side's reply to it: the key,
        the session id and the reply's body, for the synchronous answer or a job."""
        from opendata.compute.psi_client import build_reply, clean_ids

        key = self._key()
        listed = clean_ids(ids)
        body: dict[str, Any] = {"dataset": dataset_id, "field": field, "key_id": key.public_key.key_id}
        if resource_id is not None:
            body["resource"] = resource_id
        if where:
            body["where"] = {name: str(value) for name, value in where.items()}
        offer = self._post("/api/v1/compute/intersection/sessions", body)
        return key, offer["session"], build_reply(offer, listed, key.private_key, workers=workers).body()


def _position(subjects: Sequence[str], subject: str) -> int:
    """Index of ``subject`` in the directory (found here: the portal never sees it)."""
    try:
        return list(subjects).index(subject)
    except ValueError:
        raise ValueError(f"the resource has no subject {subject!r}") from None
