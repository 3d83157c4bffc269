"""JSON children of a region for the cascading picker (province → city → county)."""

from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db
from portal.models import Region


class RegionsView(BaseView):
    def is_visible(self) -> bool:
        return False

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @expose("/")
    def index(self):
        return self.children()

    @expose("/children")
    def children(self):
        parent = request.args.get("parent", "")
        stmt = select(Region.code, Region.name).order_by(Region.code)
        if parent:
            if not (parent.isdigit() and len(parent) == 6):
                return jsonify([])
            stmt = stmt.where(Region.parent_code == parent)
        else:
            stmt = stmt.where(Region.level == 1)
        return jsonify([{"code": c, "name": n} for c, n in db.session.execute(stmt)])
