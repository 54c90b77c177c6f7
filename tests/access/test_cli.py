"""opendata users | clients | keys, driven as an operator would type them."""

from __future__ import annotations

from click.testing import CliRunner, Result
from sqlalchemy import select

from opendata.audit.models import AuditRecord
from opendata.cli import main
from opendata.db import Database
from tests.access.helpers import CREDIT_A, PASSWORD


def run(database_url: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--database-url", database_url, *args], input=stdin, catch_exceptions=False)


def _actions(database_url: str) -> list[str]:
    database = Database(database_url)
    with database.session() as session:
        actions = list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
    database.dispose()
    return actions


def test_users_create_list_disable(database: Database, database_url: str) -> None:
    created = run(database_url, "users", "create", "--username", "root", "--email", "root@gz.gov.cn",
                  "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.exit_code == 0 and "created admin root" in created.output
    enterprise = run(database_url, "users", "create", "--username", "acme", "--email", "a@example.com",
                     "--role", "enterprise", "--credit-code", CREDIT_A, "--organisation-name", "甲公司",
                     "--contact-name", "陈", "--contact-phone", "020-1234567", "--password-stdin",
                     stdin=PASSWORD + "\n")
    assert enterprise.exit_code == 0, enterprise.output
    colleague = run(database_url, "users", "create", "--username", "acme2", "--email", "b@example.com",
                    "--role", "enterprise", "--credit-code", CREDIT_A, "--password-stdin", stdin=PASSWORD + "\n")
    assert colleague.exit_code == 0, colleague.output  # joins the existing organisation
    listed = run(database_url, "users", "list", "--role", "enterprise").output.splitlines()
    assert [line.split("\t")[1] for line in listed] == ["acme", "acme2"]
    assert all(CREDIT_A in line for line in listed)
    assert "disabled" in run(database_url, "users", "disable", "acme2").output
    assert "\tdisabled\t" in run(database_url, "users", "list").output
    assert _actions(database_url) == ["account.create", "account.create", "account.create", "account.disable"]


def test_bad_user_input_is_one_clear_line(database: Database, database_url: str) -> None:
    result = run(database_url, "users", "create", "--username", "pub", "--email", "p@gz.gov.cn",
                 "--role", "publisher", "--publisher", "nowhere", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 1 and "unknown_publisher" in result.output
    weak = run(database_url, "users", "create", "--username", "x1x", "--email", "x@gz.gov.cn",
               "--role", "admin", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 1 and "weak_password" in weak.output
    assert run(database_url, "users", "disable", "ghost").exit_code == 1


def test_clients_create_rotate_revoke(database: Database, database_url: str) -> None:
    run(database_url, "users", "create", "--username", "acme", "--email", "a@example.com", "--role", "enterprise",
        "--credit-code", CREDIT_A, "--organisation-name", "甲公司", "--contact-name", "陈",
        "--contact-phone", "020-1234567", "--password-stdin", stdin=PASSWORD + "\n")
    created = run(database_url, "clients", "create", "--credit-code", CREDIT_A, "--name", "批处理")
    assert created.exit_code == 0 and "shown only this once" in created.output
    client_id = created.output.split()[1]
    first_secret = created.output.split()[3]
    rotated = run(database_url, "clients", "rotate", client_id)
    assert rotated.exit_code == 0 and first_secret not in rotated.output
    assert run(database_url, "clients", "revoke", client_id).exit_code == 0
    again = run(database_url, "clients", "revoke", client_id)
    assert again.exit_code == 1 and "client_revoked" in again.output
    assert run(database_url, "clients", "create", "--credit-code", "X" * 18, "--name", "n").exit_code == 1
    assert _actions(database_url)[-3:] == ["client.create", "client.rotate", "client.revoke"]


def test_keys_rotate_and_list(database: Database, database_url: str) -> None:
    first = run(database_url, "keys", "rotate")
    assert first.exit_code == 0 and "new signing key" in first.output and "retired" not in first.output
    second = run(database_url, "keys", "rotate")
    assert "retired" in second.output
    listed = run(database_url, "keys", "list").output.splitlines()
    assert [line.split("\t")[2] for line in listed] == ["active", "retired, published"]
    assert _actions(database_url) == ["keys.rotate", "keys.rotate"]


def test_users_unlock_and_disable_organisation(client, database_url: str) -> None:  # noqa: ANN001
    """An operator lifts a lock even when every administrator is locked out, and
    disables an organisation; both audited."""
    from tests.access.helpers import register_enterprise

    register_enterprise(client, "acme", CREDIT_A)
    for _ in range(6):
        client.post("/api/v1/auth/login", json={"username": "acme", "password": "not the password"})
    assert client.post("/api/v1/auth/login", json={"username": "acme", "password": PASSWORD}).status_code == 429
    unlocked = run(database_url, "users", "unlock", "account:acme")
    assert unlocked.exit_code == 0 and "unlocked account:acme" in unlocked.output
    assert client.post("/api/v1/auth/login", json={"username": "acme", "password": PASSWORD}).status_code == 200
    assert run(database_url, "users", "unlock", "account:acme").exit_code == 1  # nothing to unlock now
    disabled = run(database_url, "users", "disable-organisation", CREDIT_A.lower())
    assert disabled.exit_code == 0 and CREDIT_A in disabled.output
    assert client.post("/api/v1/auth/login", json={"username": "acme", "password": PASSWORD}).status_code == 403
    actions = _actions(database_url)
    assert actions.count("auth.unlock") == 1 and actions.count("organisation.disable") == 1
