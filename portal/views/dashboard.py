"""The portal's home page: each user's to-do counts, within scope."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from portal.extensions import db
from portal.services.dashboard import dashboard_figures, escalation_queue, overdue_per_clerk
from portal.services.service_requests import dashboard_service_metrics


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @expose("/")
    def index(self):
        user = current_user._get_current_object()
        return self.render(
            "admin/dashboard.html",
            figures=dashboard_figures(db.session, user),
            overdue_by_clerk=overdue_per_clerk(db.session, user),
            escalations=escalation_queue(db.session, user),
            service=dashboard_service_metrics(db.session, user),
        )
