"""``opendata compute job ...``: long scorings as jobs on the portal, with progress.

    opendata compute job score --model 3 --subjects-file book.txt     # waits, a progress bar
    opendata compute job score --model 3 --subjects-file book.txt --no-wait   # prints the id
    opendata compute job intersection --dataset D --field F --ids mine.txt   # 联合统计's answer as a job
    opendata compute job status|wait|cancel JOB_ID;  opendata compute job list [--state S]
"""

from __future__ import annotations

import json
from typing import Any

import click

from opendata.cli_output import report, report_list, wants_json
from opendata.cli_output import fail
from opendata.compute.cli import _Client, _pairs, _portal_options, _subjects, compute, print_stats


@compute.group("job")
def job_group() -> None:
    """Scorings, and intersection answers, as jobs: submit, follow, cancel, read."""


def _line(status: dict[str, Any]) -> str:
    progress = status["progress"]
    error = status.get("error") or {}
    tail = f" ({error['code']}: {error.get('message')})" if error.get("code") else ""
    return f"{status['id']}\t{status['state']}\t{progress['done']}/{progress['total']} chunks{tail}"


def _progress(status: dict[str, Any]) -> None:
    """Without tqdm: one line on stderr, rewritten as the job moves on."""
    click.echo(f"\r{_line(status)}", err=True, nl=status["state"] in ("succeeded", "failed", "cancelled", "expired"))


def _wait_and_print(sdk: Any, job: Any, wanted: list[str] | None) -> None:
    from opendata.client import JobFailed

    try:
        import tqdm  # noqa: F401
        progress: Any = not wants_json()
    except ImportError:
        progress = _progress if not wants_json() else False
    try:
        scores = job.wait(progress=progress)
    except JobFailed as error:
        raise click.ClickException(str(error)) from None
    if not isinstance(scores, dict):  # an intersection job's statistics
        print_stats(scores, wants_json())
        return
    if wants_json():
        click.echo(json.dumps({s: v if isinstance(v, bool | int) else str(v) for s, v in scores.items()},
                              ensure_ascii=False))
        return
    for subject in wanted if wanted is not None else scores:
        click.echo(f"{subject}\t{scores[subject] if subject in scores else 'not found'}")


@job_group.command("score")
@_portal_options
@click.option("--model", "model_id", type=int, required=True)
@click.option("--subjects-file", type=click.File("r", encoding="utf-8"), help="One subject per line ('-': stdin).")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the job and print its scores.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("subjects", nargs=-1)
def score_job(model_id: int, subjects_file: Any, wait: bool, as_json: bool, subjects: tuple[str, ...],
              **options: Any) -> None:
    """Score a list of subjects as a job (decrypted here, as `compute score` does)."""
    wanted = list(_subjects(subjects, subjects_file))
    if not wanted:
        raise click.UsageError("name at least one subject (arguments or --subjects-file)")
    with _Client(options) as sdk:
        job = sdk.score_job(model_id, wanted)
        if not wait:
            report(f"✓ job {job.id} submitted ({len(wanted)} subjects, {job.last['progress']['total']} chunks)",
                   **job.last)
            return
        click.echo(f"job {job.id}", err=True)
        _wait_and_print(sdk, job, wanted)


@job_group.command("intersection")
@_portal_options
@click.option("--dataset", required=True)
@click.option("--resource", help="Default: the dataset's resource with a subject key.")
@click.option("--field", required=True, help="The numeric field to count and sum (granted with its bounds).")
@click.option("--where", "filters", multiple=True, metavar="FIELD=VALUE", help="As for `compute intersection`.")
@click.option("--ids", "ids_file", type=click.File("r", encoding="utf-8"), required=True,
              help="Your ids, one a line ('-' reads standard input); they never leave this machine in the clear.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes for the reply on long lists.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the job and print the statistics.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def intersection_job(dataset: str, resource: str | None, field: str, filters: tuple[str, ...], ids_file: Any,
                     workers: int, wait: bool, as_json: bool, **options: Any) -> None:
    """`compute intersection` with the portal's answer run as a job: the epsilon is spent
    when the job succeeds (not if it is cancelled before)."""
    ids = [line.strip() for line in ids_file if line.strip()]
    with _Client(options) as sdk:
        try:
            job = sdk.intersection_job(dataset, field, ids, resource_id=resource,
                                       where=_pairs(filters, "--where") or None, workers=workers)
        except ValueError as error:
            fail(str(error), "invalid_ids")
        if not wait:
            report(f"✓ job {job.id} submitted (session {job.last['summary']['session']}, "
                   f"{job.last['progress']['total']} chunks)", **job.last)
            return
        click.echo(f"job {job.id}", err=True)
        _wait_and_print(sdk, job, None)


@job_group.command("status")
@_portal_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("job_id")
def status(job_id: str, as_json: bool, **options: Any) -> None:
    """A job's state and progress."""
    with _Client(options) as sdk:
        current = sdk.job(job_id).last
    report(_line(current), **current)


@job_group.command("wait")
@_portal_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("job_id")
def wait_command(job_id: str, as_json: bool, **options: Any) -> None:
    """Follow a job to its end and print its decrypted scores."""
    with _Client(options) as sdk:
        _wait_and_print(sdk, sdk.job(job_id), None)


@job_group.command("cancel")
@_portal_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("job_id")
def cancel(job_id: str, as_json: bool, **options: Any) -> None:
    """Cancel a job; the subjects it did not compute are refunded to the licence's quota."""
    with _Client(options) as sdk:
        current = sdk.job(job_id).cancel()
    report(f"✓ {_line(current)}; {current['refunded']} unit(s) refunded", **current)


@job_group.command("list")
@_portal_options
@click.option("--state", default=None, help="Only jobs in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_jobs(state: str | None, as_json: bool, **options: Any) -> None:
    """Your licence's jobs, newest first."""
    with _Client(options) as sdk:
        items = sdk.jobs(state)
    report_list([_line(item) for item in items], items)
