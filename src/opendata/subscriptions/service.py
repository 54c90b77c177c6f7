"""Following and unfollowing datasets, what changed since a follower last looked, and the
e-mails a new version puts in the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access.models import User
from opendata.catalogue.models import Dataset
from opendata.subscriptions.models import DatasetSubscription, OutboxMail


@dataclass
class Followed:
    dataset: Dataset
    subscription: DatasetSubscription

    @property
    def updated(self) -> bool:
        return (self.dataset.version_number or 0) > self.subscription.seen_version


def subscription_of(session: Session, user_id: int, dataset_id: str) -> DatasetSubscription | None:
    return session.scalars(select(DatasetSubscription).where(
        DatasetSubscription.user_id == user_id, DatasetSubscription.dataset_id == dataset_id)).one_or_none()


def follow(session: Session, user: User, dataset: Dataset) -> DatasetSubscription:
    """Follow ``dataset`` from its current version on (idempotent)."""
    found = subscription_of(session, user.id, dataset.id)
    if found is None:
        found = DatasetSubscription(user_id=user.id, dataset_id=dataset.id, seen_version=dataset.version_number or 0)
        session.add(found)
        session.flush()
    return found


def unfollow(session: Session, user: User, dataset_id: str) -> bool:
    found = subscription_of(session, user.id, dataset_id)
    if found is not None:
        session.delete(found)
        session.flush()
    return found is not None


def followed(session: Session, user: User) -> list[Followed]:
    """The datasets ``user`` follows, updated ones first."""
    rows = session.execute(
        select(Dataset, DatasetSubscription).join(DatasetSubscription, DatasetSubscription.dataset_id == Dataset.id)
        .where(DatasetSubscription.user_id == user.id).order_by(Dataset.id)).all()
    found = [Followed(dataset, subscription) for dataset, subscription in rows]
    return sorted(found, key=lambda f: not f.updated)


def mark_seen(session: Session, user_id: int, dataset: Dataset) -> None:
    """The follower has looked at the dataset: it is no longer "updated" for them."""
    found = subscription_of(session, user_id, dataset.id)
    if found is not None and found.seen_version != (dataset.version_number or 0):
        found.seen_version = dataset.version_number or 0
        session.flush()


def _mail_text(dataset: Dataset, version: object, link: str) -> tuple[str, str]:
    v = version  # a DatasetVersion (typed loosely: versions imports this module)
    changed = "—" if v.changed is None else v.changed  # type: ignore[attr-defined]
    counts = f"+{v.added} −{v.removed} ~{changed}"  # type: ignore[attr-defined]
    title = " ".join(dataset.title_zh.split())  # a subject is one line, whatever the title holds
    subject = f"数据集已更新 / Dataset updated: {title} v{v.number}"  # type: ignore[attr-defined]
    body = (
        f"您关注的数据集「{dataset.title_zh}」发布了新版本 v{v.number}（{v.row_count} 行；"  # type: ignore[attr-defined]
        f"新增 {v.added}，删除 {v.removed}，修改 {changed}）。\n"  # type: ignore[attr-defined]
        f"The dataset you follow, {dataset.title_en or dataset.title_zh}, has a new version v{v.number} "  # type: ignore[attr-defined]
        f"({v.row_count} rows; {counts}).\n\n{link}\n"  # type: ignore[attr-defined]
    )
    return subject, body


def enqueue_version_mail(session: Session, dataset: Dataset, version: object) -> int:
    """Put one e-mail per follower of ``dataset`` in the outbox, in the caller's transaction.
    The link is relative to the portal's base URL, which the mailer adds when it sends."""
    addresses = session.scalars(
        select(User.email).join(DatasetSubscription, DatasetSubscription.user_id == User.id)
        .where(DatasetSubscription.dataset_id == dataset.id, User.disabled.is_(False))).all()
    subject, body = _mail_text(dataset, version, f"{{base_url}}/datasets/{dataset.id}/history")
    for address in addresses:
        session.add(OutboxMail(to_address=address, subject=subject[:255], body=body))
    return len(addresses)
