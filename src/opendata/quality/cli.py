"""``opendata catalogue quality DATASET``: a dataset's measured quality from a shell."""

from __future__ import annotations

import json

import click

from opendata.cli_output import fail

from opendata.quality.schemas import QualityReportOut

COMPONENT_LABELS = {
    "completeness": "completeness 完整性", "validity": "validity 有效性", "uniqueness": "uniqueness 唯一性",
    "consistency": "consistency 一致性", "timeliness": "timeliness 及时性",
}


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def report_lines(report: QualityReportOut) -> list[str]:
    timely = report.timeliness
    lines = [f"{report.dataset}: quality score {_shown(report.score)} / 100 ({report.rows} rows)"]
    for name, label in COMPONENT_LABELS.items():
        lines.append(f"  {label:<24} {_shown(report.components[name]):>6}   weight {report.weights[name]}")
    due = f", due {timely.due}" if timely.due else ""
    late = f", {timely.days_overdue} days overdue" if timely.days_overdue else ""
    lines.append(f"  timeliness: {timely.status} ({timely.frequency}, last update {timely.last_update or '—'}{due}{late})")
    for resource in report.resources:
        lines.append(f"  resource {resource.id}: score {_shown(resource.score)}, {resource.rows} rows, "
                     f"measured {resource.measured_at:%Y-%m-%d %H:%M} UTC ({resource.origin})")
        for f in resource.fields:
            lines.append(f"    field {f.name:<24} complete {_shown(f.completeness):>6}%  missing {f.missing}")
        for key in resource.keys:
            lines.append(f"    key {'+'.join(key.fields)} ({key.kind}): {key.duplicates} duplicate rows of {key.rows}")
        for rule in resource.rules:
            outcome = rule.error or f"{rule.failed} of {rule.evaluated} rows fail"
            sample = f" (rows {', '.join(map(str, rule.sample_rows))})" if rule.sample_rows and not rule.error else ""
            lines.append(f"    {rule.kind} {rule.rule}: {outcome}{sample}")
    return lines


@click.command("quality")
@click.argument("dataset_id")
@click.option("--json", "as_json", is_flag=True, help="Print the report as the API returns it.")
@click.pass_context
def quality(ctx: click.Context, dataset_id: str, as_json: bool) -> None:
    """Show a loaded dataset's quality score, components and per-field detail."""
    from litestar.serialization import encode_json

    from opendata.catalogue.service import get_dataset
    from opendata.cli import _settings
    from opendata.db import Database
    from opendata.errors import AppError
    from opendata.quality.service import quality_report

    database = Database(_settings(ctx).resolved_database_url)
    try:
        with database.session() as session:
            report = quality_report(session, get_dataset(session, dataset_id))
    except AppError as exc:
        fail(exc.message, exc.code)
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(json.loads(encode_json(report)), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(report_lines(report)))
