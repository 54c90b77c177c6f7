"""Configuring harvest sources, their schedules, and the per-source claim that keeps two
processes (two cron runs, a scheduler and a manual run) from harvesting one source at once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Catalogue, Publisher
from opendata.db import utcnow

from opendata_harvest.models import SOURCE_TYPES, HarvestSource

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# A claim older than this belongs to a process that died mid-run.
STALE_CLAIM = timedelta(hours=6)
_EVERY = re.compile(r"^(\d+)\s*(m|min|h|d)$")


class SourceError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def parse_every(text: str) -> int:
    """``30m``, ``6h``, ``1d`` → minutes (at least 5)."""
    found = _EVERY.match(text.strip().lower())
    if not found:
        raise SourceError("bad_interval", f"{text!r} is not an interval: write 30m, 6h or 1d")
    minutes = int(found.group(1)) * {"m": 1, "min": 1, "h": 60, "d": 1440}[found.group(2)]
    if minutes < 5:
        raise SourceError("bad_interval", "harvest at most every 5 minutes")
    return minutes


def add_source(session: Session, name: str, type_: str, url: str, *, domain: str, publisher: str | None = None,
               publisher_name: str | None = None, open_level: str = "unconditional", licence: str | None = None,
               id_prefix: str = "", with_data: bool = False, data_hosts: tuple[str, ...] = (),
               max_data_bytes: int | None = None, max_datasets: int | None = None) -> HarvestSource:
    if not NAME.match(name):
        raise SourceError("bad_name", f"{name!r}: a source name is lower-case letters, digits and '-' (≤ 40)")
    if type_ not in SOURCE_TYPES:
        raise SourceError("bad_type", f"type is one of {', '.join(SOURCE_TYPES)}")
    if not re.match(r"^https?://[^/\s]+", url):
        raise SourceError("bad_url", f"{url!r} is not an http(s) URL")
    term = vocab.resolve_domain(domain)
    if term is None:
        raise SourceError("bad_domain", f"unknown domain {domain!r}; one of {', '.join(vocab.DOMAIN_BY_CODE)}")
    if open_level not in vocab.OPEN_LEVEL_BY_CODE:
        raise SourceError("bad_open_level", f"open level is one of {', '.join(vocab.OPEN_LEVEL_BY_CODE)}")
    if id_prefix and not NAME.match(id_prefix[:20]):
        raise SourceError("bad_prefix", "the id prefix is lower-case letters, digits and '-'")
    if session.get(HarvestSource, name) is not None:
        raise SourceError("exists", f"source {name!r} exists; remove it first")
    catalogue_id = f"harvest-{name}"
    if session.get(Catalogue, catalogue_id) is not None:
        owner = session.scalar(select(HarvestSource.name).where(HarvestSource.catalogue_id == catalogue_id))
        if owner is None:
            raise SourceError("exists", f"a catalogue {catalogue_id!r} exists and is not a harvest's")
    if publisher:
        if not vocab.SLUG.match(publisher):
            raise SourceError("bad_publisher", f"{publisher!r} is not a publisher id (lower-case letters, digits, '-')")
        owner = session.scalar(select(Publisher.catalogue_id).where(Publisher.id == publisher))
        if owner is not None and owner != catalogue_id:
            raise SourceError("bad_publisher", f"publisher {publisher!r} belongs to catalogue {owner!r}; harvested "
                                               "datasets need a publisher of their own (the harvest creates it)")
    source = HarvestSource(
        name=name, type=type_, url=url, catalogue_id=catalogue_id, publisher_id=publisher or None,
        publisher_name=publisher_name, domain=term.code, open_level=open_level, licence=licence,
        id_prefix=id_prefix, with_data=with_data, data_hosts=[h.lower() for h in data_hosts],
        created_at=utcnow())
    if max_data_bytes is not None:
        source.max_data_bytes = max_data_bytes
    if max_datasets is not None:
        source.max_datasets = max_datasets
    session.add(source)
    session.flush()
    return source


SETTABLE = ("domain", "publisher_name", "open_level", "licence", "with_data", "data_hosts", "max_data_bytes",
            "max_datasets")


def set_options(session: Session, name: str, **changes: object) -> HarvestSource:
    """Change a source's options (not its name, type, URL, publisher or id prefix, which
    decide the ids of what it harvested: remove and add it again for those)."""
    source = get_source(session, name)
    for key, value in changes.items():
        if key not in SETTABLE:
            raise SourceError("not_settable", f"{key} cannot be changed; settable: {', '.join(SETTABLE)}")
        if value is None:
            continue
        if key == "domain":
            term = vocab.resolve_domain(str(value))
            if term is None:
                raise SourceError("bad_domain", f"unknown domain {value!r}; one of {', '.join(vocab.DOMAIN_BY_CODE)}")
            value = term.code
        if key == "open_level" and value not in vocab.OPEN_LEVEL_BY_CODE:
            raise SourceError("bad_open_level", f"open level is one of {', '.join(vocab.OPEN_LEVEL_BY_CODE)}")
        if key == "data_hosts":
            value = [str(h).lower() for h in value]  # type: ignore[union-attr]
        setattr(source, key, value)
    return source


def get_source(session: Session, name: str) -> HarvestSource:
    source = session.get(HarvestSource, name)
    if source is None:
        raise SourceError("unknown_source", f"no harvest source {name!r} (opendata harvest source list)")
    return source


def list_sources(session: Session) -> list[HarvestSource]:
    return list(session.scalars(select(HarvestSource).order_by(HarvestSource.name)))


def remove_source(session: Session, name: str) -> HarvestSource:
    """Forget a source, its runs and log; the datasets it harvested stay in the catalogue."""
    source = get_source(session, name)
    session.delete(source)
    return source


def set_schedule(session: Session, name: str, every_minutes: int | None) -> HarvestSource:
    source = get_source(session, name)
    source.every_minutes = every_minutes
    return source


def next_due(source: HarvestSource) -> datetime | None:
    if not source.every_minutes:
        return None
    if source.last_run_at is None:
        return source.created_at
    return source.last_run_at + timedelta(minutes=source.every_minutes)


def due_sources(session: Session, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    return [s.name for s in list_sources(session) if (due := next_due(s)) is not None and due <= now]


def claim(session: Session, name: str) -> bool:
    """Mark ``name`` as being harvested; False when another run holds it. Commit at once."""
    now = utcnow()
    result = session.execute(
        update(HarvestSource)
        .where(HarvestSource.name == name,
               or_(HarvestSource.running_since.is_(None), HarvestSource.running_since < now - STALE_CLAIM))
        .values(running_since=now))
    return result.rowcount == 1


def release(session: Session, name: str, finished: datetime) -> None:
    session.execute(update(HarvestSource).where(HarvestSource.name == name)
                    .values(running_since=None, last_run_at=finished))
