"""``GET /api/audit``: read the audit log (``admin.read``), newest first.

Filters: ``actor`` (exact), ``action`` (exact, or a dotted prefix: ``plugin`` or ``plugin.*``
matches ``plugin.reload``), ``target`` (exact), ``since`` (inclusive) and ``until`` (exclusive)
as ISO 8601 times (a time without a zone is UTC). Pages: ``limit`` (1 to 200) entries, then pass
the answer's ``nextCursor`` as ``cursor`` for the next older page; ``total`` counts every match.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import ColumnElement, func, or_, select

from catalyst.api.responses import JSONResponse
from catalyst.api.schemas.audit import AuditEntry, AuditPage
from catalyst.api.schemas.base import Envelope
from catalyst.auth.deps import get_services, require
from catalyst.auth.sessions import Principal
from catalyst.db.ids import max_id
from catalyst.db.models import AuditLog
from catalyst.errors import BadRequest

router = APIRouter(prefix="/api/audit", tags=["audit"], default_response_class=JSONResponse)
Reader = Annotated[Principal, Depends(require("admin.read"))]
MAX_LIMIT = 200


def _utc(value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise BadRequest(f"{value.isoformat()} is out of range once converted to UTC") from None


def _action_filter(action: str) -> ColumnElement[bool]:
    prefix = action.removesuffix("*").removesuffix(".")
    if not prefix:
        raise BadRequest("action: give an action such as plugin.reload, or a prefix such as plugin")
    if action.endswith("*"):
        return AuditLog.action.startswith(prefix + ".", autoescape=True)
    return or_(AuditLog.action == prefix, AuditLog.action.startswith(prefix + ".", autoescape=True))


def filters(
    actor: str | None,
    action: str | None,
    target: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if actor:
        where.append(AuditLog.actor == actor)
    if action:
        where.append(_action_filter(action))
    if target:
        where.append(AuditLog.target == target)
    if since is not None:
        where.append(AuditLog.created_at >= _utc(since))
    if until is not None:
        where.append(AuditLog.created_at < _utc(until))
    return where


Text = Annotated[str | None, Query(max_length=255, pattern=r"^[^\x00]*$")]


@router.get("")
async def list_audit(
    request: Request,
    _: Reader,
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Envelope[AuditPage]:
    """Newest first; ``nextCursor`` is null on the last page."""
    where = filters(actor, action, target, since, until)
    page = list(where)
    if cursor is not None and cursor <= max_id(AuditLog):  # above it, every id is older
        page.append(AuditLog.id < cursor)
    async with get_services(request).db() as db:
        total = await db.scalar(select(func.count()).select_from(AuditLog).where(*where)) or 0
        rows = list(
            (
                await db.scalars(
                    select(AuditLog).where(*page).order_by(AuditLog.id.desc()).limit(limit + 1)
                )
            ).all()
        )
    more = len(rows) > limit
    rows = rows[:limit]
    page_items = [AuditEntry.of(r) for r in rows]
    cursor_after = rows[-1].id if more and rows else None
    return Envelope(data=AuditPage(items=page_items, total=total, next_cursor=cursor_after))
