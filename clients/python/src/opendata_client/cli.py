"""The ``opendata-client`` command: search, show, versions, feedback, rows, download.

    opendata-client --portal http://127.0.0.1:8000 search 公交
    opendata-client show bus-stops --json
    opendata-client versions public-parking
    opendata-client feedback bus-stops --page 2
    opendata-client rows bus-stops stops --where district=天河区 --max-rows 100
    opendata-client download bus-stops stops --format csv --bom -o stops.csv

The portal and credentials also come from OPENDATA_PORTAL, OPENDATA_CLIENT_ID and
OPENDATA_CLIENT_SECRET. Exit codes: 0 done; 1 the portal refused (its code and message
on one line); 2 bad usage; 3 the portal is unreachable; 4 rows stopped at the licence's
daily quota (the rows fetched are printed, and the cursor to resume with).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import asdict
from typing import Any, Sequence

from opendata_client._core import DEFAULT_PORTAL
from opendata_client.client import Client
from opendata_client.errors import OpenDataError, PortalUnreachable
from opendata_client.retry import RetryPolicy

EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_QUOTA = 1, 3, 4


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON instead of text")
    parser = argparse.ArgumentParser(prog="opendata-client", parents=[common],
                                     description="Search and read an opendata portal.")
    parser.add_argument("--portal", default=os.environ.get("OPENDATA_PORTAL") or DEFAULT_PORTAL,
                        help="the portal's address (env OPENDATA_PORTAL; default %(default)s)")
    parser.add_argument("--client-id", default=os.environ.get("OPENDATA_CLIENT_ID") or None,
                        help="API client id, for licensed data (env OPENDATA_CLIENT_ID)")
    parser.add_argument("--client-secret", default=os.environ.get("OPENDATA_CLIENT_SECRET") or None,
                        help="its secret (env OPENDATA_CLIENT_SECRET)")
    parser.add_argument("--scope", help='e.g. "licence:3" when the client holds several licences')
    parser.add_argument("--retries", type=int, default=4, help="retries after 429/5xx/connection errors")
    commands = parser.add_subparsers(dest="command", required=True)

    search = commands.add_parser("search", parents=[common], help="search the catalogue")
    search.add_argument("q", nargs="?", default="")
    for name in ("domain", "publisher", "open-level", "tag", "format"):
        search.add_argument(f"--{name}", action="append")
    search.add_argument("--page", type=int, default=1)
    search.add_argument("--page-size", type=int, default=20)

    show = commands.add_parser("show", parents=[common], help="a dataset's metadata and fields")
    show.add_argument("dataset")
    versions = commands.add_parser("versions", parents=[common],
                                   help="a dataset's versions (newest first), or one with its diff")
    versions.add_argument("dataset")
    versions.add_argument("number", nargs="?", type=int, help="one version: its changes against the one before")
    feedback = commands.add_parser("feedback", parents=[common],
                                   help="a dataset's rating and comments with the publisher's replies")
    feedback.add_argument("dataset")
    feedback.add_argument("--page", type=int, default=1)
    feedback.add_argument("--page-size", type=int, default=20)

    for name, text in (("rows", "read rows (CSV on stdout)"), ("download", "download a file")):
        sub = commands.add_parser(name, parents=[common], help=text)
        sub.add_argument("dataset")
        sub.add_argument("resource")
        sub.add_argument("--where", action="append", default=[], metavar="FIELD[__OP]=VALUE",
                         help="a filter, e.g. district=天河区 or age__gte=18 (repeatable)")
        sub.add_argument("--fields", help="comma-separated field names")
        sub.add_argument("--sort", help="e.g. name, or --sort=-age for descending")
    rows = commands.choices["rows"]
    rows.add_argument("--max-rows", type=int)
    rows.add_argument("--page-size", type=int, default=1000)
    rows.add_argument("--cursor", help="resume after the rows of an earlier run")
    download = commands.choices["download"]
    download.add_argument("--format", default="csv", choices=["csv", "xlsx", "json", "ndjson"])
    download.add_argument("--bom", action="store_true", help="UTF-8 BOM in CSV, for Excel")
    download.add_argument("-o", "--output", help="file to write (default DATASET_RESOURCE.FORMAT)")
    return parser


def _filters(parser: argparse.ArgumentParser, pairs: list[str]) -> dict[str, str]:
    filters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            parser.error(f"--where {pair!r}: expected FIELD=VALUE")
        filters[name] = value
    return filters


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser, od: Client) -> int:
    as_json = getattr(args, "json", False)
    if args.command == "search":
        result = od.search(args.q, domain=args.domain, publisher=args.publisher, open_level=args.open_level,
                           tag=args.tag, format=args.format, page=args.page, page_size=args.page_size)
        if as_json:
            _print_json({"total": result.total, "page": result.page, "items": [d.raw for d in result.items]})
        else:
            print(f"{result.total} datasets")
            for d in result.items:
                level = d.open_level.zh if d.open_level else ""
                print(f"{d.id}\t{d.title_zh}\t{level}")
        return 0
    if args.command == "show":
        dataset = od.dataset(args.dataset)
        if as_json:
            _print_json(dataset.raw)
            return 0
        print(f"{dataset.id}: {dataset.title_zh}" + (f" ({dataset.title_en})" if dataset.title_en else ""))
        for resource in dataset.resources:
            print(f"  resource {resource.id}: {resource.title_zh} [{resource.format}], {resource.row_count} rows")
            for f in resource.fields:
                print(f"    {f.name}\t{f.type}\t{f.title_zh}")
        return 0
    if args.command in ("versions", "feedback"):
        return _versions(od, args, as_json) if args.command == "versions" else _feedback(od, args, as_json)
    filters = _filters(parser, args.where)
    if args.fields:
        filters["fields"] = args.fields
    if args.sort:
        filters["sort"] = args.sort
    if args.command == "download":
        target = od.download(args.dataset, args.resource, args.format, args.output, bom=args.bom,
                             progress=sys.stderr.isatty(), **filters)
        _print_json({"path": str(target), "bytes": target.stat().st_size}) if as_json else print(target)
        return 0
    rows = od.fetch_rows(args.dataset, args.resource, page_size=args.page_size, max_rows=args.max_rows,
                         cursor=args.cursor, **filters)
    if as_json:
        _print_json({"fields": [asdict(f) for f in rows.fields], "rows": rows.rows, "complete": rows.complete,
                     "stopped_by": rows.stopped_by, "next_cursor": rows.next_cursor})
    else:
        writer = csv.writer(sys.stdout)
        names = [f.name for f in rows.fields]
        writer.writerow(names)
        writer.writerows([row.get(n) for n in names] for row in rows.rows)
    if rows.stopped_by == "quota":
        print(f"opendata-client: stopped at the licence's daily quota after {len(rows)} rows; "
              f"resume tomorrow with --cursor {rows.next_cursor}", file=sys.stderr)
        return EXIT_QUOTA
    return 0


def _versions(od: Client, args: argparse.Namespace, as_json: bool) -> int:
    if args.number is not None:
        version = od.version(args.dataset, args.number)
        if as_json:
            _print_json(version.raw)
            return 0
        print(f"version {version.number} of {args.dataset}/{version.resource}: {version.created_at} "
              f"({version.origin}), {version.row_count} rows")
        for kind in ("added", "removed", "changed"):
            keys = version.samples.get(kind) or []
            print(f"  {kind} {getattr(version, kind)}" + (f": {', '.join(map(str, keys))}" if keys else ""))
        return 0
    listed = od.versions(args.dataset)
    if as_json:
        _print_json([v.raw for v in listed])
        return 0
    for v in listed:
        changed = "" if v.changed is None else f" ~{v.changed}"
        print(f"{v.number}\t{v.created_at}\t{v.resource}\t{v.origin}\t{v.row_count} rows\t+{v.added} -{v.removed}{changed}")
    return 0


def _feedback(od: Client, args: argparse.Namespace, as_json: bool) -> int:
    rating = od.rating(args.dataset)
    page = od.comments(args.dataset, page=args.page, page_size=args.page_size)
    if as_json:
        _print_json({"rating": asdict(rating), "comments": {"total": page.total, "page": page.page,
                                                            "items": [c.raw for c in page.items]}})
        return 0
    average = "not rated" if rating.average is None else f"{rating.average} stars"
    print(f"{average} ({rating.count} ratings); {page.total} comments, page {page.page}")
    for c in page.items:
        label = c.kind if c.kind == "comment" else f"{c.kind} {c.category or ''} {c.status or ''}".rstrip()
        print(f"#{c.id}\t{c.created_at}\t{c.author}\t[{label}] {c.body}")
        for r in c.replies:
            print(f"\t↳ {r.author} ({r.author_role}): {r.body}")
    return 0


def _fail(args: argparse.Namespace, line: str, code: str, exit_code: int) -> int:
    """One line on stderr; with --json also the error as JSON on stdout, for scripts."""
    print(f"opendata-client: {line}", file=sys.stderr)
    if getattr(args, "json", False):
        _print_json({"error": {"code": code, "message": line}})
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    retry = RetryPolicy(attempts=max(1, args.retries + 1))
    try:
        with Client(args.portal, client_id=args.client_id, client_secret=args.client_secret, scope=args.scope,
                    retry=retry) as od:
            return _run(args, parser, od)
    except ValueError as error:  # e.g. a client id without its secret
        parser.error(str(error))
    except PortalUnreachable as error:
        return _fail(args, error.message, error.code, EXIT_UNREACHABLE)
    except OpenDataError as error:
        return _fail(args, f"the portal refused: {error}", error.code, EXIT_REFUSED)
    except OSError as error:  # the output file cannot be written
        return _fail(args, str(error), "os_error", EXIT_REFUSED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
