"""``opendata audit ...``: verify the chain, sign checkpoints, prove and check inclusion."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from opendata.cli_output import emit_json, fail, report


@click.group()
def audit() -> None:
    """The keyed, checkpointed audit trail."""


@contextmanager
def _database(ctx: click.Context) -> Iterator[tuple[object, object]]:
    from opendata.audit.keyfiles import material_for_url
    from opendata.db import Database
    from opendata.settings import Settings

    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url)
    database.migrate()
    try:
        yield database, material_for_url(database.url)
    finally:
        database.dispose()


def _public_key(path: Path | None, material):  # noqa: ANN001, ANN202
    from opendata.audit.keyfiles import load_public_key

    try:
        return load_public_key(path) if path else material.public_key
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"cannot read the public key: {exc}") from None


@audit.command("verify")
@click.option("--checkpoints", "files", type=click.Path(path_type=Path, dir_okay=False), multiple=True,
              help="Checkpoint files to check against (default: the data dir's and the witness's).")
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Ed25519 public key (PEM) of the checkpoints (default: the data dir's key).")
@click.pass_context
def audit_verify(ctx: click.Context, files: tuple[Path, ...], public_key: Path | None) -> None:
    """Check the chain with the audit key and against the signed checkpoints; exit 1 on any
    rewritten record, truncation or bad checkpoint."""
    from opendata.audit.verify import verify_audit

    with _database(ctx) as (database, material):
        key = _public_key(public_key, material)
        with database.session() as session:  # type: ignore[attr-defined]
            outcome = verify_audit(session, material, files=list(files) or None, public_key=key)
    for note in outcome.notes:
        click.echo(f"  note: {note}", err=True)
    if outcome.intact:
        report(f"✓ audit chain intact: {outcome.records} records, head {outcome.head_hash}; "
               f"{outcome.checkpoints} signed checkpoint(s) match",
               intact=True, records=outcome.records, head_hash=outcome.head_hash,
               checkpoints=outcome.checkpoints, notes=list(outcome.notes))
        return
    problems = [str(p) for p in outcome.problems]
    fail(f"audit chain broken at record #{outcome.first_broken_id}: {len(problems)} problem(s)", "audit_chain_broken",
         lines=[f"- {p}" for p in problems], first_broken_id=outcome.first_broken_id, problems=problems)


@audit.command("checkpoint")
@click.pass_context
def audit_checkpoint(ctx: click.Context) -> None:
    """Sign the chain's head now (after verifying the records since the last checkpoint)."""
    from opendata.audit.checkpoints import CheckpointRefused, make_checkpoint

    with _database(ctx) as (database, material):
        try:
            checkpoint = make_checkpoint(database, material, force=True)  # type: ignore[arg-type]
        except CheckpointRefused as exc:
            fail(f"no checkpoint signed: {exc}", "checkpoint_refused")
    assert checkpoint is not None
    report(f"✓ checkpoint signed: {checkpoint['tree_size']} records, root {checkpoint['root_hash']}, "
           f"head {checkpoint['head_hash']}", **checkpoint)


@audit.command("prove")
@click.argument("record_id", type=click.IntRange(min=1))
@click.pass_context
def audit_prove(ctx: click.Context, record_id: int) -> None:
    """Print a Merkle inclusion proof (JSON) of a record against a signed checkpoint."""
    from opendata.audit.proofs import ProofError, prove

    with _database(ctx) as (database, material):
        with database.session() as session:  # type: ignore[attr-defined]
            try:
                proof = prove(session, material, record_id)
            except ProofError as exc:
                fail(str(exc), "no_proof")
    emit_json(proof)  # JSON with or without --json: the proof is a document to keep


@audit.command("check-proof")
@click.argument("proof_file", type=click.File("r", encoding="utf-8"))
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="Ed25519 public key (PEM) of the checkpoints (<data dir>/keys/audit-checkpoint-ed25519.pem.pub).")
def audit_check_proof(proof_file, public_key: Path) -> None:  # noqa: ANN001
    """Check a proof from `opendata audit prove` offline (no database, no audit key)."""
    from opendata.audit.keyfiles import load_public_key
    from opendata.audit.proofs import ProofError, check_proof

    try:
        proof = json.load(proof_file)
        check_proof(proof, load_public_key(public_key))
    except (ValueError, ProofError) as exc:
        fail(f"proof does not hold: {exc}", "proof_invalid")
    report(f"✓ record #{proof['record']['id']} is in the checkpoint of {proof['checkpoint']['timestamp']} "
           f"({proof['tree_size']} records, root {proof['checkpoint']['root_hash']})",
           holds=True, record=proof["record"]["id"], checkpoint=proof["checkpoint"]["timestamp"],
           tree_size=proof["tree_size"], root_hash=proof["checkpoint"]["root_hash"])
