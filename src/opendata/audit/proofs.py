"""Merkle inclusion proofs: record #n is in the tree a signed checkpoint commits to.

A proof is a JSON document anyone can check offline with the checkpoint public key alone
(no database, no audit key): the record, its leaf index, the RFC 6962 audit path, and the
signed checkpoint.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from opendata.audit.chain import canonical_time, iter_records, leaf_data, record_values
from opendata.audit.checkpoints import check_signature, checkpoint_files, log_name, read_lines
from opendata.audit.keyfiles import KeyMaterial
from opendata.audit.merkle import inclusion_proof, leaf_hash, root_from_inclusion


class ProofError(Exception):
    pass


def prove(session: Session, material: KeyMaterial, record_id: int) -> dict[str, Any]:
    """The proof of record ``record_id`` against the smallest checkpoint that covers it."""
    log = log_name(session.get_bind().url)
    covering = sorted(
        (line.checkpoint for path in checkpoint_files(material) for line in read_lines(path, material.public_key)
         if not line.problem and line.checkpoint and line.checkpoint.get("log") == log
         and line.checkpoint["tree_size"] >= record_id),
        key=lambda cp: cp["tree_size"])
    if not covering:
        raise ProofError(f"no signed checkpoint covers record #{record_id} yet (opendata audit checkpoint)")
    checkpoint = covering[0]
    leaves, record = [], None
    for r in iter_records(session):
        if r.id > checkpoint["tree_size"]:
            break
        values = record_values(r)
        leaves.append(leaf_hash(leaf_data(values)))
        if r.id == record_id:
            record = {**values, "at": canonical_time(values["at"])}
    if record is None or len(leaves) != checkpoint["tree_size"]:
        raise ProofError(f"record #{record_id} or records before it are missing (run opendata audit verify)")
    signed = {k: v for k, v in checkpoint.items() if k != "frontier"}
    return {"record": record, "leaf_index": record_id - 1, "tree_size": checkpoint["tree_size"],
            "audit_path": [node.hex() for node in inclusion_proof(leaves, record_id - 1)],
            "checkpoint": signed}


def check_proof(proof: dict[str, Any], public_key: Ed25519PublicKey) -> None:
    """Raise ProofError unless ``proof`` shows its record inside a checkpoint signed by the key."""
    try:
        checkpoint, record = proof["checkpoint"], proof["record"]
        problem = check_signature(checkpoint, public_key)
        if problem:
            raise ProofError(f"checkpoint: {problem}")
        if proof["tree_size"] != checkpoint["tree_size"]:
            raise ProofError("the proof's tree size is not the checkpoint's")
        leaf = leaf_hash(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                         .encode("utf-8"))
        root = root_from_inclusion(int(proof["leaf_index"]), int(proof["tree_size"]), leaf,
                                   [bytes.fromhex(node) for node in proof["audit_path"]])
    except ProofError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofError(f"malformed proof: {exc}") from None
    if root.hex() != checkpoint["root_hash"]:
        raise ProofError("the audit path does not lead to the checkpoint's root: record or path altered")
    if record.get("id") != proof["leaf_index"] + 1:
        raise ProofError("the record's id is not its leaf's position")

