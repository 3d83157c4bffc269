"""The audit trail (R-AUDIT-1): who did what to which record, with old and new values."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import AuditLog

# Fields never written to the log in clear (R-AUDIT-2).
MASKED_FIELDS = {"mobile", "phone"}
SKIPPED_FIELDS = {
    "version",
    "updated_at",
    "created_at",
    "password_hash",
    "session_token",
    "failed_logins",
}


def mask_mobile(value: str | None) -> str | None:
    """138****5678: enough to recognise, not enough to call (R-AUDIT-2)."""
    if not value:
        return value
    value = str(value)
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * len(value)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj) -> dict:
    """Column values of a record before it is changed."""
    mapper = inspect(obj).mapper
    return {c.key: _plain(getattr(obj, c.key)) for c in mapper.column_attrs}


def _diff(before: dict, obj) -> dict:
    after = snapshot(obj)
    changes = {}
    for key, new in after.items():
        old = before.get(key)
        if key in SKIPPED_FIELDS or old == new:
            continue
        if key in MASKED_FIELDS:
            old, new = mask_mobile(old), mask_mobile(new)
        changes[key] = [old, new]
    return changes


def record_event(
    session: Session,
    action: str,
    obj=None,
    *,
    user=None,
    ip=None,
    summary: str = "",
    changes: dict | None = None,
    model_name: str = "",
    division_id: int | None = None,
) -> AuditLog:
    """Append one audit entry; the caller commits with the change it describes."""
    entry = AuditLog(
        at=now(),
        user_id=getattr(user, "id", None),
        division_id=division_id
        or getattr(obj, "division_id", None)
        or getattr(user, "division_id", None),
        ip=ip,
        action=action,
        model=model_name or (type(obj).__name__ if obj is not None else ""),
        record_id=getattr(obj, "id", None),
        summary=(summary or (str(obj) if obj is not None else ""))[:200],
        changes=json.dumps(changes, ensure_ascii=False) if changes else None,
    )
    session.add(entry)
    return entry


def record_change(session: Session, obj, before: dict, *, user=None, ip=None) -> AuditLog | None:
    changes = _diff(before, obj)
    if not changes:
        return None
    return record_event(session, "update", obj, user=user, ip=ip, changes=changes)
