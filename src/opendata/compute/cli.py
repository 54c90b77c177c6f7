"""``opendata compute ...``: an enterprise's side of private computation, from a shell.

Every command but ``keygen`` and ``subject-digest`` talks to a portal through the SDK with
an API client's credentials (``--portal``, ``--client-id``, ``--client-secret`` or the
environment variables OPENDATA_PORTAL_URL, OPENDATA_CLIENT_ID, OPENDATA_CLIENT_SECRET).
The key file written by ``keygen`` holds the private key: it is created readable by its
owner only and never leaves this machine; only its public half is ever sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import click

from opendata.cli_output import EXIT_UNREACHABLE, fail, report, report_list

KEY_OPTION = click.option("--key", "key_path", type=click.Path(path_type=Path), default="key.json",
                          show_default=True, envvar="OPENDATA_COMPUTE_KEY", help="Key file from `compute keygen`.")


@click.group()
def compute() -> None:
    """Verification and private scoring on data you never see (数据可用不可见)."""


def _portal_options(command: Any) -> Any:
    for option in reversed([
        click.option("--portal", default="http://127.0.0.1:8000", show_default=True, envvar="OPENDATA_PORTAL_URL",
                     help="The portal's base URL."),
        click.option("--client-id", required=True, envvar="OPENDATA_CLIENT_ID", help="Your API client's id."),
        click.option("--client-secret", required=True, envvar="OPENDATA_CLIENT_SECRET",
                     help="Your API client's secret (prefer the environment variable)."),
        click.option("--scope", envvar="OPENDATA_SCOPE", help="e.g. licence:3, when you hold several licences."),
        KEY_OPTION,
    ]):
        command = option(command)
    return command


class _Client:
    """The SDK client for one command; SDK errors become one line on stderr and exit 1."""

    def __init__(self, options: dict[str, Any]) -> None:
        from opendata.client import OpenDataClient

        key = OpenDataClient.load_key(options["key_path"]) if options["key_path"].exists() else None
        if key is None:
            raise click.UsageError(f"no key file {options['key_path']}: run `opendata compute keygen` first")
        self.sdk = OpenDataClient(options["portal"], client_id=options["client_id"],
                                  client_secret=options["client_secret"], scope=options["scope"], key=key)

    def __enter__(self) -> Any:
        return self.sdk

    def __exit__(self, kind: Any, error: Any, trace: Any) -> bool:
        from opendata.client import OpenDataError, PortalUnreachable

        self.sdk.close()
        if isinstance(error, PortalUnreachable):
            fail(error.message, "portal_unreachable", EXIT_UNREACHABLE)
        if isinstance(error, OpenDataError):
            fail(f"{error.status} {error.code}: {error.message}", error.code, status=error.status)
        return False


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not name=value", param_hint=what)
        pairs[name] = value
    return pairs


@compute.command("keygen")
@click.option("--out", type=click.Path(path_type=Path), default="key.json", show_default=True)
@click.option("--bits", type=click.IntRange(2048, 4096), default=2048, show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
def keygen(out: Path, bits: int, force: bool) -> None:
    """Generate a Paillier key pair into a file readable only by you."""
    from opendata.client import OpenDataClient

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; a key is not replaced by accident (use --force)")
    if bits % 2:
        raise click.BadParameter("the modulus size must be even", param_hint="--bits")
    key = OpenDataClient.generate_keypair(bits)
    OpenDataClient.save_key(key, out)
    report(f"✓ {bits}-bit key {key.public_key.key_id} written to {out} (keep it secret; back it up)",
           key_id=key.public_key.key_id, bits=bits, path=str(out))


@compute.command("register-key")
@_portal_options
def register_key(**options: Any) -> None:
    """Register the key file's public key with its proof of well-formedness (made here,
    against the portal's published parameters) for your organisation (idempotent)."""
    from opendata.compute.proofs import ProofError

    with _Client(options) as sdk:
        if not sdk._key().is_blum:
            raise click.ClickException("this key file predates key proofs (its primes are not 3 mod 4) and cannot "
                                       "be proved: generate a new one with `opendata compute keygen --force`")
        try:
            answer = sdk.register_key()
        except ProofError as error:
            raise click.ClickException(f"the key could not be proved: {error}") from None
    report(f"✓ key {answer['kid']} ({answer['bits']} bits) registered", **answer)


@compute.command("verify")
@_portal_options
@click.option("--dataset", required=True)
@click.option("--resource", help="Default: the dataset's resource with a subject key.")
@click.option("--subject", required=True, help="The subject key value, e.g. a citizen id or credit code.")
@click.option("--claim", "claims", multiple=True, required=True, metavar="FIELD=VALUE",
              help="A claimed value (repeatable).")
@click.option("--where", "filters", multiple=True, metavar="FIELD=VALUE",
              help="Singles out one row, e.g. month=2024-06-01 (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print {field: true|false} as JSON.")
def verify(dataset: str, resource: str | None, subject: str, claims: tuple[str, ...], filters: tuple[str, ...],
           as_json: bool, **options: Any) -> None:
    """Check claimed values against the subject's row; exit 0 only if every claim matches."""
    with _Client(options) as sdk:
        results = sdk.verify(dataset, subject, _pairs(claims, "--claim"), where=_pairs(filters, "--where") or None,
                             resource_id=resource)
    if as_json:
        click.echo(json.dumps(results))
    else:
        for name, matches in results.items():
            click.echo(f"{'✓' if matches else '✗'} {name}: {'matches' if matches else 'does not match'}")
    if not all(results.values()):
        raise SystemExit(1)


@compute.command("hidden-query")
@_portal_options
@click.option("--dataset", required=True)
@click.option("--resource", help="Default: the dataset's resource with a subject key.")
@click.option("--subject", required=True, help="The subject to read; the portal never learns which it is.")
@click.option("--field", "fields", multiple=True, required=True, help="A field to read (repeatable).")
@click.option("--where", "filters", multiple=True, metavar="FIELD=VALUE",
              help="Leaves one row per subject, e.g. year=2021 (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print {field: value} as JSON.")
def hidden_query(dataset: str, resource: str | None, subject: str, fields: tuple[str, ...], filters: tuple[str, ...],
                 as_json: bool, **options: Any) -> None:
    """Read one subject's fields by a hidden query (匿踪查询): one of the licence's daily queries."""
    with _Client(options) as sdk:
        try:
            record = sdk.hidden_query(dataset, subject, list(fields), resource_id=resource,
                                      where=_pairs(filters, "--where") or None)
        except ValueError as error:
            fail(str(error), "subject_not_in_directory")
    if as_json:
        click.echo(json.dumps(record, default=str, ensure_ascii=False))
    else:
        for name, value in record.items():
            click.echo(f"{name}\t{'' if value is None else value}")


@compute.command("intersection")
@_portal_options
@click.option("--dataset", required=True)
@click.option("--resource", help="Default: the dataset's resource with a subject key.")
@click.option("--field", required=True, help="The numeric field to count and sum (granted with its bounds).")
@click.option("--where", "filters", multiple=True, metavar="FIELD=VALUE",
              help="Leaves one row per subject, e.g. month=2024-06-01 (repeatable).")
@click.option("--ids", "ids_file", type=click.File("r", encoding="utf-8"), required=True,
              help="Your ids, one a line ('-' reads standard input); they never leave this machine in the clear.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes for the reply on long lists.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def intersection(dataset: str, resource: str | None, field: str, filters: tuple[str, ...], ids_file: Any,
                 workers: int, as_json: bool, **options: Any) -> None:
    """Count, sum and mean of a field over your ids that the dataset has (联合统计), with
    differential privacy: spends the licence's epsilon per query."""
    ids = [line.strip() for line in ids_file if line.strip()]
    with _Client(options) as sdk:
        try:
            stats = sdk.intersection_stats(dataset, field, ids, resource_id=resource,
                                           where=_pairs(filters, "--where") or None, workers=workers)
        except ValueError as error:
            fail(str(error), "invalid_ids")
    print_stats(stats, as_json)


def print_stats(stats: Any, as_json: bool) -> None:
    """An IntersectionStats as the intersection commands print it."""
    if as_json:
        click.echo(json.dumps(stats.to_json(), ensure_ascii=False))
        return
    if stats.suppressed:
        click.echo(f"suppressed: the noised count is below the licence's minimum cohort (ids sent: {stats.ids})")
    else:
        click.echo(f"count\t{stats.count}\t(noise scale {stats.count_noise_scale:g})")
        click.echo(f"sum\t{stats.sum}\t(noise scale {stats.sum_noise_scale:g})")
        click.echo(f"mean\t{'' if stats.mean is None else stats.mean}")
    click.echo(f"epsilon\tspent {stats.epsilon_spent:g}, left {stats.epsilon_left:g}")


@compute.command("intersection-budget")
@_portal_options
@click.option("--json", "as_json", is_flag=True, help="Print the grants as JSON.")
def intersection_budget(as_json: bool, **options: Any) -> None:
    """The licence's intersection grants: fields, bounds, epsilon spent and left."""
    with _Client(options) as sdk:
        grants = sdk.intersection_grants()
    if as_json:
        click.echo(json.dumps(grants, ensure_ascii=False))
        return
    for g in grants:
        fields = ", ".join(f"{name} [{b['lower']}, {b['upper']}]" for name, b in g["fields"].items())
        click.echo(f"{g['dataset']}/{g['resource']}\t{fields}\tepsilon {g['epsilon_spent']:g} of "
                   f"{g['epsilon_total']:g} spent, {g['queries_left']} queries left (epsilon {g['epsilon_per_query']:g} "
                   f"each)\tmin cohort {g['min_cohort']}")


@compute.command("register-model")
@_portal_options
@click.argument("spec", type=click.File("r", encoding="utf-8"))
def register_model(spec: Any, **options: Any) -> None:
    """Register a linear model from a JSON file: {"name", "features", "weights", "bias",
    "score_scale", "output_mode"} and, for "decision" / "banded", "thresholds" (and optionally
    "weight_bits", "bias_bits"). Secret weights are encrypted and range-proved here;
    "reviewed" weights go to the administrator in plaintext. It scores once approved."""
    try:
        model = json.load(spec)
        arguments = (model["name"], model["features"], model["weights"], model["bias"], int(model["score_scale"]))
        mode = model.get("output_mode", "reviewed")
        extra = {"output_mode": mode, "thresholds": list(model.get("thresholds", []))}
        extra.update({k: int(model[k]) for k in ("weight_bits", "bias_bits") if k in model})
    except (ValueError, KeyError, TypeError) as error:
        raise click.BadParameter(f"not a model specification: {error}", param_hint="SPEC") from None
    with _Client(options) as sdk:
        model_id = sdk.register_model(*arguments, **extra)
    report(f"✓ model {model_id} registered ({mode}); it scores once an administrator approves it",
           model=model_id, output_mode=mode, approved=False)


def _subjects(values: tuple[str, ...], source: Any) -> Iterator[str]:
    yield from values
    if source is not None:
        yield from (line.strip() for line in source if line.strip())


@compute.command("score")
@_portal_options
@click.option("--model", "model_id", type=int, required=True)
@click.option("--subjects-file", type=click.File("r", encoding="utf-8"), help="One subject per line ('-': stdin).")
@click.option("--json", "as_json", is_flag=True, help="Print {subject: score} as JSON.")
@click.argument("subjects", nargs=-1)
def score(model_id: int, subjects_file: Any, as_json: bool, subjects: tuple[str, ...], **options: Any) -> None:
    """Score subjects with an approved model, decrypted here: the score (reviewed), whether
    it reaches the threshold (decision), or the band 0..k (banded)."""
    wanted = list(_subjects(subjects, subjects_file))
    if not wanted:
        raise click.UsageError("name at least one subject (arguments or --subjects-file)")
    with _Client(options) as sdk:
        scores = sdk.score(model_id, wanted)
    if as_json:
        click.echo(json.dumps({s: v if isinstance(v, bool | int) else str(v) for s, v in scores.items()},
                              ensure_ascii=False))
        return
    for subject in wanted:
        click.echo(f"{subject}\t{scores[subject] if subject in scores else 'not found'}")


@compute.command("parameters")
@click.option("--public", "public_out", type=click.File("w", encoding="utf-8"),
              help="Also write the published form (no factors) to this file ('-': stdout).")
@click.pass_context
def parameters_command(ctx: click.Context, public_out: Any) -> None:
    """(Operators) The portal's proof parameters: created now if this installation has none
    (two safe primes, ~10 s), or imported from OPENDATA_COMPUTE_PARAMETERS_FILE."""
    import hashlib

    from opendata.compute.parameters import ring_pedersen
    from opendata.db import Database
    from opendata.settings import Settings

    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    database.migrate()
    try:
        with database.session() as session:
            params = ring_pedersen(session)
    finally:
        database.dispose()
    published = params.to_json()
    fingerprint = hashlib.sha256(json.dumps(published, sort_keys=True).encode()).hexdigest()[:32]
    text = (f"✓ ring-Pedersen parameters, {int(published['n']).bit_length()} bits, fingerprint {fingerprint}; "
            f"proofs name the portal {settings.issuer!r}")
    if public_out is not None and public_out.name == "<stdout>":
        click.echo(text, err=True)  # stdout carries the published parameters
    else:
        report(text, bits=int(published["n"]).bit_length(), fingerprint=fingerprint, issuer=settings.issuer)
    if public_out is not None:
        json.dump(published, public_out)


@compute.command("subject-digest")
@click.argument("subjects", nargs=-1, required=True)
@click.pass_context
def subject_digest(ctx: click.Context, subjects: tuple[str, ...]) -> None:
    """(Operators) The audit trail's digest of each subject, to find computations on it."""
    from opendata.compute.policy import subject_digest as digest_of
    from opendata.compute.runtime import SUBJECT_SECRET_NAME
    from opendata.db import Database
    from opendata.secrets import instance_secret
    from opendata.settings import Settings

    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    database.migrate()
    try:
        with database.session() as session:
            secret = instance_secret(session, SUBJECT_SECRET_NAME)
            session.commit()
    finally:
        database.dispose()
    digests = [(subject, digest_of(secret, subject)) for subject in subjects]
    report_list([f"{subject}\t{digest}" for subject, digest in digests],
                [{"subject": subject, "digest": digest} for subject, digest in digests])



from opendata.compute import jobs_cli  # noqa: E402,F401  (registers `opendata compute job ...`)
