"""Sending the outbox through the configured SMTP server, off the request path.

A background thread of each portal process wakes every ``mail_poll_seconds`` (and right
after an upload commits) and sends what is due. A message is claimed before it is sent
(``claimed_until``), so two processes never send it twice; a failure is retried with
exponential back-off (``mail_retry_seconds`` doubling, at most an hour) until
``mail_max_attempts``, then marked ``failed``. No SMTP server configured: nothing is sent
and the messages wait. An upload never waits for a mail server.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import or_, select, update

from opendata.db import Database, utcnow
from opendata.settings import Settings
from opendata.subscriptions.models import OutboxMail

logger = logging.getLogger(__name__)
CLAIM_SECONDS = 120
RETRY_MAX_SECONDS = 3600
BATCH = 50


@dataclass
class Delivery:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _send(settings: Settings, mail: OutboxMail) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.to_address
    # One line: a header with a line break would be refused by EmailMessage (and, written
    # raw, would add headers); titles are the publisher's text, and older rows may have one.
    message["Subject"] = " ".join(mail.subject.split())
    message.set_content(mail.body.replace("{base_url}", settings.base_url.rstrip("/")))
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


def _claim(database: Database, mail_id: int, now: datetime) -> OutboxMail | None:
    with database.transaction() as session:
        claimed = session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.status == "pending",
                   or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS)))
        if claimed.rowcount != 1:
            return None  # another process has it
        mail = session.get(OutboxMail, mail_id)
        session.expunge(mail)
        return mail


def _settle(database: Database, mail: OutboxMail, settings: Settings, now: datetime, error: str | None) -> str:
    with database.transaction() as session:
        row = session.get(OutboxMail, mail.id)
        assert row is not None
        row.claimed_until = None
        row.attempts += 1
        if error is None:
            row.status, row.sent_at = "sent", now
        elif row.attempts >= settings.mail_max_attempts:
            row.status, row.last_error = "failed", error[:1000]
        else:
            delay = min(settings.mail_retry_seconds * 2 ** (row.attempts - 1), RETRY_MAX_SECONDS)
            row.next_attempt_at, row.last_error = now + timedelta(seconds=delay), error[:1000]
        return row.status


def deliver_pending(database: Database, settings: Settings, *, now: datetime | None = None) -> Delivery:
    """Send the messages that are due (at most ``BATCH``); returns what happened."""
    done = Delivery()
    if not settings.smtp_host:
        return done
    now = now or utcnow()
    with database.session() as session:
        due = session.scalars(
            select(OutboxMail.id).where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now,
                                        or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
            .order_by(OutboxMail.id).limit(BATCH)).all()
    for mail_id in due:
        mail = _claim(database, mail_id, now)
        if mail is None:
            continue
        try:
            _send(settings, mail)
            error = None
        except Exception as exc:  # noqa: BLE001 - a message that cannot be built or sent fails alone,
            # never the batch (an exception here used to stop every later message, round after round)
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("mail %d to %s not sent: %s", mail.id, mail.to_address, error)
        status = _settle(database, mail, settings, now, error)
        if status == "sent":
            done.sent += 1
        elif status == "failed":
            done.failed += 1
        else:
            done.retried += 1
    return done


class Mailer:
    """The portal process's sending thread."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database, self.settings = database, settings
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def __deepcopy__(self, memo: dict) -> "Mailer":
        return self  # Litestar deep-copies plugins; one thread per process, like the Database

    def start(self) -> None:
        if self.settings.smtp_host and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="opendata-mailer", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Send now rather than at the next poll (called after a commit that made versions)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_pending(self.database, self.settings)
            except Exception:  # a database hiccup must not end the thread; the next round retries
                logger.exception("the mailer's round failed")
            self._wake.wait(self.settings.mail_poll_seconds)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
