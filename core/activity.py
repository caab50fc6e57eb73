"""Who did what: a project's activity feed, and the names of the people behind assets and headliners.

A user action writes its line in the action's own transaction and queues an `activity` event in the request's outbox
(sent after the commit); the worker writes a generation's outcome in the transaction that records the final status
and publishes it with that status. Retention purges are not user actions: they write nothing (docs/activity.md).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetKind, AssetStatus
from core.events import Outbox, ProjectEvent, activity
from core.models import ActivityItem, ActivityKind, Asset, Box, Comment, Project, SharedLink, User
from core.schemas import ActivityPublic

SOMEONE = "Someone"
"""The actor of a generation whose requester is unknown (an asset older than studios, or a deleted account)."""
TEXT_EXCERPT = 200
"""How much of a comment the feed keeps."""


def user_name(user_id: Any) -> Any:
    """The display name of the user whose id is the column `user_id`, as a correlated scalar subquery: each row
    carries its name in the row's own statement (no query per row)."""
    return select(User.display_name).where(col(User.id) == user_id).correlate_except(User).scalar_subquery()


# --- summaries ------------------------------------------------------------------------------------------------


def _shot(details: dict[str, Any]) -> str:
    code, title = details.get("code"), details.get("title")
    if not code:
        return "a shot"
    return f"{code} · {title}" if title else str(code)


def _media(details: dict[str, Any]) -> str:
    return "video" if details.get("kind") == AssetKind.VIDEO.value else "image"


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def summarize(kind: ActivityKind, actor: str, details: dict[str, Any]) -> str:
    """One sentence for a feed line, built from what the line stores (so it reads the same live and reloaded)."""
    shot = _shot(details)
    match kind:
        case ActivityKind.GENERATED:
            return f"{actor} generated {_a(_media(details))} for {shot}"
        case ActivityKind.FAILED:
            return f"{actor}'s {_media(details)} for {shot} failed"
        case ActivityKind.HEADLINER:
            if details.get("cleared"):
                return f"{actor} cleared the headliner of {shot}"
            return f"{actor} set the headliner of {shot}"
        case ActivityKind.COMMENTED:
            who = f"A guest, {actor}," if details.get("via_link") else actor
            return f"{who} commented on {shot}"
        case ActivityKind.LINK_CREATED:
            return f"{actor} created a review link"
        case ActivityKind.LINK_REVOKED:
            return f"{actor} revoked a review link"
        case ActivityKind.SHOT_DELETED:
            count = int(details.get("asset_count") or 0)
            with_assets = f" and its {count} variant{'s' if count != 1 else ''}" if count else ""
            return f"{actor} deleted {shot}{with_assets}"
        case ActivityKind.ASSET_DELETED:
            return f"{actor} deleted {_a(_media(details))} of {shot}"


def to_activity_public(item: ActivityItem) -> ActivityPublic:
    assert item.id is not None
    return ActivityPublic(
        id=item.id,
        kind=item.kind,
        actor_name=item.actor_name,
        actor_user_id=item.actor_user_id,
        box_id=item.box_id,
        asset_id=item.asset_id,
        details=item.details,
        summary=summarize(item.kind, item.actor_name, item.details),
        created_at=item.created_at,
    )


def activity_event(item: ActivityItem) -> ProjectEvent:
    return activity(project_id=item.project_id, item=to_activity_public(item).model_dump(mode="json"))


# --- writing --------------------------------------------------------------------------------------------------


def _shot_details(box: Box) -> dict[str, Any]:
    return {"code": box.code, "title": box.title}


async def _record(session: AsyncSession, events: Outbox, item: ActivityItem) -> ActivityItem:
    """Add the line to the action's transaction; its event leaves with the request's other events, after the
    commit (and never if the action is rolled back)."""
    session.add(item)
    await session.flush()
    events.queue(activity_event(item))
    return item


async def record_headliner(session: AsyncSession, events: Outbox, actor: User, box: Box) -> ActivityItem:
    """`box.headliner_id` is the new headliner (None: cleared)."""
    return await _record(
        session,
        events,
        ActivityItem(
            project_id=box.project_id,
            kind=ActivityKind.HEADLINER,
            actor_user_id=actor.id,
            actor_name=actor.display_name,
            box_id=box.id,
            asset_id=box.headliner_id,
            details={**_shot_details(box), "cleared": box.headliner_id is None},
        ),
    )


async def record_comment(session: AsyncSession, events: Outbox, comment: Comment, box: Box) -> ActivityItem:
    return await _record(
        session,
        events,
        ActivityItem(
            project_id=comment.project_id,
            kind=ActivityKind.COMMENTED,
            actor_user_id=comment.author_user_id,
            actor_name=comment.author_name,
            box_id=comment.box_id,
            asset_id=comment.asset_id,
            details={
                **_shot_details(box),
                "text": comment.text[:TEXT_EXCERPT],
                "via_link": comment.via_link,
            },
        ),
    )


async def record_link(
    session: AsyncSession, events: Outbox, actor: User, link: SharedLink, kind: ActivityKind
) -> ActivityItem:
    """A share link created or revoked (`kind`); the line names the link by id, never by its token."""
    return await _record(
        session,
        events,
        ActivityItem(
            project_id=link.project_id,
            kind=kind,
            actor_user_id=actor.id,
            actor_name=actor.display_name,
            details={"link_id": link.id},
        ),
    )


async def record_shot_deleted(
    session: AsyncSession, events: Outbox, actor: User, box: Box, asset_count: int
) -> ActivityItem:
    """One line for the shot, however many variants went with it."""
    return await _record(
        session,
        events,
        ActivityItem(
            project_id=box.project_id,
            kind=ActivityKind.SHOT_DELETED,
            actor_user_id=actor.id,
            actor_name=actor.display_name,
            box_id=box.id,
            details={**_shot_details(box), "asset_count": asset_count},
        ),
    )


async def record_asset_deleted(
    session: AsyncSession, events: Outbox, actor: User, asset: Asset, box: Box
) -> ActivityItem:
    return await _record(
        session,
        events,
        ActivityItem(
            project_id=box.project_id,
            kind=ActivityKind.ASSET_DELETED,
            actor_user_id=actor.id,
            actor_name=actor.display_name,
            box_id=box.id,
            asset_id=asset.id,
            details={**_shot_details(box), "kind": asset.kind.value},
        ),
    )


OUTCOMES = {AssetStatus.COMPLETED: ActivityKind.GENERATED, AssetStatus.FAILED: ActivityKind.FAILED}


async def record_generation_outcome(session: AsyncSession, asset_id: int, status: AssetStatus) -> None:
    """The worker's line for a generation that just became COMPLETED or FAILED, in the transaction recording it;
    the actor is who requested it, by their name now. Published with the asset's status (`outcome_of`)."""
    row = (
        await session.exec(
            select(Asset.kind, Asset.requested_by_id, user_name(Asset.requested_by_id), Box)
            .join(Box, col(Box.id) == Asset.box_id)
            .where(Asset.id == asset_id)
        )
    ).first()
    if row is None:
        return
    kind, requested_by_id, requester_name, box = row
    session.add(
        ActivityItem(
            project_id=box.project_id,
            kind=OUTCOMES[status],
            actor_user_id=requested_by_id,
            actor_name=requester_name or SOMEONE,
            box_id=box.id,
            asset_id=asset_id,
            details={**_shot_details(box), "kind": AssetKind(kind).value},
        )
    )
    await session.flush()


async def outcome_of(session: AsyncSession, asset: Asset, project_id: int) -> ActivityItem | None:
    """The line the worker wrote for the asset's current final status (the newest: a retried asset has one per
    outcome), or None while it is not final. Walks the project's feed from its newest line (its index), where the
    line just written is."""
    kind = OUTCOMES.get(asset.status)
    if kind is None:
        return None
    item: ActivityItem | None = (
        await session.exec(
            select(ActivityItem)
            .where(
                ActivityItem.project_id == project_id,
                ActivityItem.asset_id == asset.id,
                ActivityItem.kind == kind,
            )
            .order_by(col(ActivityItem.id).desc())
            .limit(1)
        )
    ).first()
    return item


# --- reading --------------------------------------------------------------------------------------------------


async def list_activity(
    session: AsyncSession, project: Project, limit: int, offset: int
) -> tuple[list[ActivityItem], int]:
    """Newest first; the page and its total in one statement (a separate count only past the end)."""
    condition = ActivityItem.project_id == project.id
    rows = (
        await session.exec(
            select(ActivityItem, func.count().over())
            .where(condition)
            .order_by(col(ActivityItem.id).desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        return [item for item, _ in rows], rows[0][1]
    if offset == 0:
        return [], 0
    total = (await session.exec(select(func.count()).select_from(ActivityItem).where(condition))).one()
    return [], total
