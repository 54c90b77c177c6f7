"""``opendata assets ...``: the register from a shell, and offline verification of certificates.

``verify`` exits 0 when the certificate's signature holds under the keys of the portal the
user names (and, when that portal was asked, it is current), 1 when it is not a valid certificate, 3 when it is valid but superseded
or revoked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from opendata.cli_output import fail, report, report_list, wants_json

EXIT_INVALID = 1
EXIT_SUPERSEDED = 3


@click.group()
def assets() -> None:
    """公共数据资产登记: register, list, certificates, verify."""


def _load_json(source: str) -> Any:
    if source.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(source, timeout=10)
        response.raise_for_status()
        return response.json()
    return json.loads(Path(source).read_text(encoding="utf-8"))


@assets.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--portal", "portal_url", help="The portal you trust (its address): keys and status are read from it.")
@click.option("--jwks", "jwks_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A saved JWKS of the portal you trust (offline: the status is not checked).")
def verify(file: Path, portal_url: str | None, jwks_file: Path | None) -> None:
    """Verify an asset certificate (资产凭证) against the keys of a portal you name.

    The trust anchor always comes from you (--portal or --jwks), never from the
    certificate: a forged certificate may name any issuer and publish its own keys there.
    """
    from opendata.assets.certificate import CertificateInvalid, verify as verify_document
    from opendata.extensions.crypto import suites_for
    from opendata.settings import Settings

    if (portal_url is None) == (jwks_file is None):
        raise click.UsageError("give one of --portal URL (online) or --jwks FILE (offline)")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        _invalid(f"{file}: not a JSON document ({exc})")
    payload = document.get("payload") if isinstance(document, dict) else None
    issuer = str(payload.get("issuer", "")).rstrip("/") if isinstance(payload, dict) else ""
    portal = portal_url.rstrip("/") if portal_url else None
    if portal is not None and issuer != portal:
        _invalid(f"{file}: issued by {issuer or 'no issuer'!r}, not by the portal you named ({portal})")
    source = f"{portal}/api/v1/assets/jwks.json" if portal else str(jwks_file)
    try:
        jwks = _load_json(source)
    except Exception as exc:  # noqa: BLE001 - any failure to read the keys is one line
        _invalid(f"cannot read the JWKS {source}: {exc}")
    try:
        # The algorithms of the core and of the plugins OPENDATA_PLUGINS enables (gmcrypto: SM2).
        verified = verify_document(document, jwks, suites_for(Settings.from_env()))
    except CertificateInvalid as exc:
        _invalid(f"INVALID certificate {file}: {exc}")
    asset = verified.payload.get("asset", {})
    valid = (f"✓ signature valid: asset {asset.get('code')} revision {asset.get('revision')} "
             f"({asset.get('dataset', {}).get('title_zh')}), signed by key {verified.kid}")
    facts = {"valid": True, "asset": asset.get("code"), "revision": asset.get("revision"), "kid": verified.kid}
    if portal is None:
        report(f"{valid}\n  status not checked (offline)", **facts, status=None)
        return
    try:
        status = _load_json(f"{portal}/api/v1/assets/certificates/{verified.payload.get('id')}/status")
    except Exception as exc:  # noqa: BLE001
        report(f"{valid}\n  status not checked: {exc}", **facts, status=None, status_error=str(exc))
        return
    if status.get("status") != "current":
        if not wants_json():
            click.echo(valid)
        fail(f"{status.get('status', 'superseded').upper()}: this certificate was superseded "
             f"({status.get('status')}) on {status.get('superseded_at')}"
             + (f"; current certificate {status['current_certificate']}" if status.get("current_certificate") else ""),
             "certificate_superseded", EXIT_SUPERSEDED, **facts, status=status.get("status"))
    report(f"{valid}\n  status: current", **facts, status="current")


def _invalid(message: str) -> NoReturn:
    fail(message, "certificate_invalid", EXIT_INVALID)


@assets.command("export")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export_command(ctx: click.Context, output: Path) -> None:
    """Write the register to OUTPUT (.xlsx or .csv, by its extension; CSV with a BOM and
    Chinese headers, for Excel)."""
    from opendata.access.cli import _session, _settings
    from opendata.assets.export import COLUMNS, FORMATS, register_rows
    from opendata.formats import get_exporter

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        fail(f"{output}: the file name must end in .xlsx or .csv", code="unknown_format")
    options = {"bom": True, "header": "titles"} if fmt == "csv" else {}
    with _session(ctx) as session:
        rows = list(register_rows(session, _settings(ctx).base_url.rstrip("/")))
    partial = output.with_name(output.name + ".part")  # nothing half-written under the asked name
    try:
        with partial.open("wb") as handle:
            for chunk in get_exporter(fmt)(COLUMNS, rows, **options):
                handle.write(chunk)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"{output}: cannot write the register: {exc.strerror or exc}", code="write_failed")
    report(f"{output}: {len(rows)} registered assets", file=str(output), assets=len(rows))


@assets.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked registrations.")
@click.pass_context
def list_command(ctx: click.Context, include_revoked: bool) -> None:
    """The register, one asset a line."""
    from opendata.access.cli import _session
    from opendata.assets.service import list_assets

    with _session(ctx) as session:
        found = list_assets(session, include_revoked=include_revoked)
        report_list([f"{a.code}\t{a.dataset_id}\trev {a.revision}\t{a.status}\t{a.holder_department}\t"
                     f"{a.row_count} rows" for a in found],
                    [{"code": a.code, "dataset": a.dataset_id, "revision": a.revision, "status": a.status,
                      "holder_department": a.holder_department, "rows": a.row_count} for a in found])


@assets.command("register")
@click.argument("dataset")
@click.option("--holder", "holder_department", help="Holder department (default: the publisher).")
@click.option("--use", "permitted_uses", multiple=True, help="A permitted use (repeatable).")
@click.option("--value-assessment")
@click.option("--compliance", "compliance_status", type=click.Choice(["pending", "passed", "failed"]))
@click.option("--reviewer", "compliance_reviewer")
@click.pass_context
def register_command(ctx: click.Context, dataset: str, holder_department: str | None, permitted_uses: tuple[str, ...],
                     value_assessment: str | None, compliance_status: str | None,
                     compliance_reviewer: str | None) -> None:
    """Register DATASET as a public-data asset and issue its certificate (audited)."""
    from opendata.access.cli import CLI_REQUEST, _actor, _session, _settings
    from opendata.assets.service import AssetInput, register

    data = AssetInput(holder_department=holder_department, permitted_uses=list(permitted_uses) or None,
                      value_assessment=value_assessment, compliance_status=compliance_status,
                      compliance_reviewer=compliance_reviewer)
    with _session(ctx) as session:
        asset = register(session, _settings(ctx), dataset, data, _actor(), CLI_REQUEST)
        session.commit()
        report(f"✓ registered {dataset} as {asset.code}", dataset=dataset, code=asset.code)


@assets.command("certificate")
@click.argument("code")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def certificate_command(ctx: click.Context, code: str, output: Path | None) -> None:
    """Write the current certificate of asset CODE (to stdout or a file)."""
    from opendata.access.cli import _session
    from opendata.assets.service import current_certificate, get_asset

    with _session(ctx) as session:
        issued = current_certificate(session, get_asset(session, code).id)
        if issued is None:
            fail(f"asset {code} has no certificate", "no_certificate")
        text = json.dumps(issued.document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        report(f"✓ wrote {output}", err=True, path=str(output))


@assets.command("jwks")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
def jwks_command(ctx: click.Context, output: Path) -> None:
    """Save the keys that verify certificates, for offline verification."""
    from opendata.access.cli import _session, _settings
    from opendata.assets.service import certificate_jwks

    with _session(ctx) as session:
        output.write_text(json.dumps(certificate_jwks(session, _settings(ctx)), indent=2) + "\n", encoding="utf-8")
    report(f"✓ wrote {output}", err=True, path=str(output))
