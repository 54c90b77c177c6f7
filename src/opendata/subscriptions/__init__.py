"""Following datasets: signed-in users see "updated" after a new version and get an e-mail
through the configured SMTP server, sent from an outbox table (docs/versions.md)."""
