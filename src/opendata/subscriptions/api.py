"""/api/v1/datasets/{id}/subscription (follow, unfollow) and /api/v1/subscriptions (what the
signed-in user follows, with "updated" since they last looked)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request, delete, get, post, put
from litestar.params import FromPath

from opendata.access.models import ROLES
from opendata.access.principals import require_user
from opendata.catalogue import service as catalogue
from opendata.deps import DbSession
from opendata.subscriptions import service


@dataclass
class SubscriptionOut:
    dataset: str
    title_zh: str
    title_en: str | None
    version_number: int
    seen_version: int
    updated: bool


def _out(found: service.Followed) -> SubscriptionOut:
    d, s = found.dataset, found.subscription
    return SubscriptionOut(d.id, d.title_zh, d.title_en, d.version_number or 0, s.seen_version, found.updated)


@put("/api/v1/datasets/{dataset_id:str}/subscription", summary="Follow a dataset (signed-in users)",
     sync_to_thread=True, tags=["subscriptions"])
def follow(request: Request, db_session: DbSession, dataset_id: FromPath[str]) -> SubscriptionOut:
    principal = require_user(request, db_session, action="dataset.follow", roles=ROLES,
                             target=f"dataset:{dataset_id[:63]}")
    dataset = catalogue.get_dataset(db_session, dataset_id)
    subscription = service.follow(db_session, principal.user, dataset)
    db_session.commit()
    return _out(service.Followed(dataset, subscription))


@delete("/api/v1/datasets/{dataset_id:str}/subscription", summary="Stop following a dataset", status_code=204,
        sync_to_thread=True, tags=["subscriptions"])
def unfollow(request: Request, db_session: DbSession, dataset_id: FromPath[str]) -> None:
    principal = require_user(request, db_session, action="dataset.unfollow", roles=ROLES,
                             target=f"dataset:{dataset_id[:63]}")
    catalogue.get_dataset(db_session, dataset_id)
    service.unfollow(db_session, principal.user, dataset_id)
    db_session.commit()


@get("/api/v1/subscriptions", summary="The datasets I follow; updated: a new version since I last looked",
     sync_to_thread=True, tags=["subscriptions"])
def my_subscriptions(request: Request, db_session: DbSession) -> list[SubscriptionOut]:
    principal = require_user(request, db_session, action="subscriptions.list", roles=ROLES)
    return [_out(f) for f in service.followed(db_session, principal.user)]


@post("/api/v1/datasets/{dataset_id:str}/subscription/seen", summary="Mark a followed dataset as seen",
      status_code=200, sync_to_thread=True, tags=["subscriptions"])
def seen(request: Request, db_session: DbSession, dataset_id: FromPath[str]) -> SubscriptionOut | None:
    principal = require_user(request, db_session, action="dataset.follow", roles=ROLES,
                             target=f"dataset:{dataset_id[:63]}")
    dataset = catalogue.get_dataset(db_session, dataset_id)
    service.mark_seen(db_session, principal.user.id, dataset)
    db_session.commit()
    found = service.subscription_of(db_session, principal.user.id, dataset.id)
    return _out(service.Followed(dataset, found)) if found else None


SUBSCRIPTION_HANDLERS = [follow, unfollow, my_subscriptions, seen]
