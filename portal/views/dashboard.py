"""The portal's home page: each user's to-do counts, within scope."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from portal.extensions import db
from portal.services.dashboard import dashboard_figures


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @expose("/")
    def index(self):
        figures = dashboard_figures(db.session, current_user)
        return self.render("admin/dashboard.html", figures=figures)
