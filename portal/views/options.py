"""Choices for filters and form fields, computed per request and bounded by scope."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import select

from portal import scope
from portal.extensions import db
from portal.models import Division, Region, User


def lookup_options(model):
    """Options callable for a small lookup table (a few dozen rows at most)."""

    def options():
        if not has_request_context():
            return []
        rows = db.session.execute(
            select(model.id, model.name).where(model.active.is_(True)).order_by(model.sort_order)
        ).all()
        return [(str(i), n) for i, n in rows]

    return options


def lookup_query(model):
    def query():
        return db.session.query(model).filter(model.active.is_(True)).order_by(model.sort_order)

    return query


def user_options():
    """Users a filter on owner may offer: only those in the viewer's scope (R-SCOPE-4)."""
    if not has_request_context():
        return []
    rows = db.session.execute(
        select(User.id, User.display_name)
        .where(scope.visible(User, current_user), User.division_id.is_not(None))
        .order_by(User.division_id, User.id)
    ).all()
    return [(str(i), n) for i, n in rows]


def assignable_users():
    """Owner picker: active users of the writer's division (or all, for global roles)."""
    return (
        db.session.query(User)
        .filter(
            scope.visible(User, current_user), User.state == "active", User.division_id.is_not(None)
        )
        .order_by(User.division_id, User.id)
    )


def division_options():
    if not has_request_context():
        return []
    stmt = select(Division.id, Division.name).order_by(Division.id)
    if not scope.sees_all(current_user):
        stmt = stmt.where(Division.id == current_user.division_id)
    rows = db.session.execute(stmt).all()
    return [(str(i), n) for i, n in rows]


def province_options():
    if not has_request_context():
        return []
    rows = db.session.execute(
        select(Region.code, Region.name).where(Region.level == 1).order_by(Region.code)
    ).all()
    return [(code[:2], name) for code, name in rows]
