"""``opendata users|clients|keys ...``: what an operator does from a shell."""

from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager
from typing import Iterator

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo
from opendata.cli_output import fail, report, report_list

CLI_REQUEST = RequestInfo(method="CLI")


def _actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}", "operator")


@contextmanager
def _session(ctx: click.Context) -> Iterator[Session]:
    """A migrated database's session; an AppError becomes a one-line message and exit 1."""
    from opendata.db import Database
    from opendata.errors import AppError
    from opendata.settings import Settings

    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    database.migrate()
    try:
        with database.session() as session:
            yield session
    except AppError as error:
        fail(f"{error.message} ({error.code})", error.code)
    finally:
        database.dispose()


def _settings(ctx: click.Context):  # noqa: ANN202
    from opendata.settings import Settings

    return ctx.find_object(Settings) or Settings.from_env()


# --- users --------------------------------------------------------------------------------

@click.group()
def users() -> None:
    """Accounts: create, list, disable, unlock; disable an organisation."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["developer", "enterprise", "publisher", "admin"]))
@click.option("--display-name")
@click.option("--publisher", "publisher_id", help="Publisher id (role publisher).")
@click.option("--credit-code", help="Organisation's unified social credit code (role enterprise); "
              "joins the organisation if it exists, else creates it with the options below.")
@click.option("--organisation-name")
@click.option("--contact-name")
@click.option("--contact-phone")
@click.option("--contact-email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_create(ctx: click.Context, username: str, email: str, role: str, display_name: str | None,
                 publisher_id: str | None, credit_code: str | None, organisation_name: str | None,
                 contact_name: str | None, contact_phone: str | None, contact_email: str | None,
                 password_stdin: bool) -> None:
    """Create an account (the only way to create publisher and admin accounts)."""
    from opendata.access.accounts import AccountInput, OrganisationInput, create_user
    from opendata.access.models import Organisation
    from opendata.audit.service import append

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session(ctx) as session:
        organisation = organisation_id = None
        if credit_code:
            organisation_id = session.scalar(
                select(Organisation.id).where(Organisation.credit_code == credit_code.strip().upper())
            )
            if organisation_id is None:
                organisation = OrganisationInput(organisation_name or "", credit_code, contact_name or "",
                                                 contact_phone or "", contact_email)
        user = create_user(session, AccountInput(
            username=username, email=email, password=password, role=role, display_name=display_name,
            organisation=organisation, organisation_id=organisation_id, publisher_id=publisher_id,
        ))
        append(session, actor=_actor(), action="account.create", target=f"user:{user.username}",
               details={"role": role}, request=CLI_REQUEST)
        session.commit()
        report(f"✓ created {role} {user.username} (id {user.id})", id=user.id, username=user.username, role=role)


@users.command("list")
@click.option("--role", type=click.Choice(["developer", "enterprise", "publisher", "admin"]))
@click.pass_context
def users_list(ctx: click.Context, role: str | None) -> None:
    """List accounts."""
    from opendata.access.accounts import list_users

    lines, items = [], []
    with _session(ctx) as session:
        for user in list_users(session, role):
            credit_code = user.organisation.credit_code if user.organisation else None
            state = "disabled" if user.disabled else "active"
            lines.append(f"{user.id}\t{user.username}\t{user.role}\t{state}\t{user.email}\t"
                         f"{credit_code or user.publisher_id or ''}")
            items.append({"id": user.id, "username": user.username, "role": user.role, "state": state,
                          "email": user.email, "credit_code": credit_code, "publisher": user.publisher_id})
    report_list(lines, items)


@users.command("disable")
@click.argument("username")
@click.pass_context
def users_disable(ctx: click.Context, username: str) -> None:
    """Disable an account and end its sessions."""
    from opendata.access.accounts import disable_user

    with _session(ctx) as session:
        disable_user(session, username, _actor(), CLI_REQUEST)
        session.commit()
        report(f"✓ disabled {username}; its sessions are ended", username=username, disabled=True)


@users.command("unlock")
@click.argument("subject")
@click.pass_context
def users_unlock(ctx: click.Context, subject: str) -> None:
    """Lift a sign-in lock: account:<user name> or address:<ip> (also when every
    administrator is locked out, which the HTTP unlock cannot help with)."""
    from opendata.access.accounts import unlock_sign_in

    with _session(ctx) as session:
        unlock_sign_in(session, subject, _actor(), CLI_REQUEST)
        session.commit()
        report(f"✓ unlocked {subject}", unlocked=subject)


@users.command("disable-organisation")
@click.argument("credit_code")
@click.pass_context
def users_disable_organisation(ctx: click.Context, credit_code: str) -> None:
    """Disable an organisation: its people, its API clients and their live tokens."""
    from opendata.access.accounts import disable_organisation

    with _session(ctx) as session:
        organisation = disable_organisation(session, credit_code, _actor(), CLI_REQUEST)
        session.commit()
        report(f"✓ disabled organisation {organisation.credit_code} ({organisation.name}), its users and clients",
               credit_code=organisation.credit_code, name=organisation.name, disabled=True)


# --- API clients --------------------------------------------------------------------------

@click.group()
def clients() -> None:
    """API clients of organisations: create, rotate, revoke."""


@clients.command("create")
@click.option("--credit-code", required=True, help="The organisation's unified social credit code.")
@click.option("--name", required=True)
@click.pass_context
def clients_create(ctx: click.Context, credit_code: str, name: str) -> None:
    """Create a client; its secret is printed once."""
    from opendata.access.clients import create_client, find_organisation

    with _session(ctx) as session:
        client, secret = create_client(session, find_organisation(session, credit_code), name,
                                       actor=_actor(), request=CLI_REQUEST)
        session.commit()
        _report_secret(client.client_id, secret)


@clients.command("rotate")
@click.argument("client_id")
@click.pass_context
def clients_rotate(ctx: click.Context, client_id: str) -> None:
    """Give a client a new secret (printed once); the old one stops working."""
    from opendata.access.clients import get_client, rotate_secret

    with _session(ctx) as session:
        secret = rotate_secret(session, get_client(session, client_id), actor=_actor(), request=CLI_REQUEST)
        session.commit()
        _report_secret(client_id, secret)


def _report_secret(client_id: str, secret: str) -> None:
    report(f"client_id:     {client_id}\nclient_secret: {secret}\n(the secret is shown only this once)",
           client_id=client_id, client_secret=secret)


@clients.command("revoke")
@click.argument("client_id")
@click.pass_context
def clients_revoke(ctx: click.Context, client_id: str) -> None:
    """Revoke a client: no new tokens, and its live tokens stop working."""
    from opendata.access.clients import get_client, revoke_client

    with _session(ctx) as session:
        revoke_client(session, get_client(session, client_id), actor=_actor(), request=CLI_REQUEST)
        session.commit()
        report(f"✓ revoked {client_id}", client_id=client_id, revoked=True)


# --- signing keys -------------------------------------------------------------------------

@click.group()
def keys() -> None:
    """Token signing keys."""


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Sign with a new key from now on; old keys keep verifying until their tokens expire."""
    from opendata.access import keys as signing
    from opendata.audit.service import append

    settings = _settings(ctx)
    with _session(ctx) as session:
        key, retired = signing.rotate(session, settings.signing_key_passphrase)
        append(session, actor=_actor(), action="keys.rotate", target=f"key:{key.kid}",
               details={"retired": [k.kid for k in retired]}, request=CLI_REQUEST)
        session.commit()
        window = signing.publish_window(settings.token_lifetime_seconds)
        report(f"✓ new signing key {key.kid} ({key.algorithm})"
               + (f"; retired {', '.join(k.kid for k in retired)} (published for {window} more)" if retired else ""),
               kid=key.kid, algorithm=key.algorithm, retired=[k.kid for k in retired], published_for=str(window) if retired else None)


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """The signing keys, newest first, with their state."""
    from opendata.access.keys import published_keys
    from opendata.access.models import SigningKey

    settings = _settings(ctx)
    lines, items = [], []
    with _session(ctx) as session:
        published = {k.kid for k in published_keys(session, settings.token_lifetime_seconds)}
        for key in session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc())):
            state = "active" if key.retired_at is None else ("retired, published" if key.kid in published
                                                            else "retired")
            encrypted = "encrypted" if key.encrypted else "plain"
            lines.append(f"{key.kid}\t{key.algorithm}\t{state}\t{encrypted}\t{key.created_at.isoformat()}")
            items.append({"kid": key.kid, "algorithm": key.algorithm, "state": state,
                          "encrypted": key.encrypted, "created_at": key.created_at.isoformat()})
    report_list(lines, items)
