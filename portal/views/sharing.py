"""资料共享人 on the customer's page (R-SCOPE-2): list, add and revoke shares.

A mixin for CustomerView: two POST routes that load the customer within scope (404
otherwise), call portal/services/sharing.py, commit and flash; and the details
template that shows the shares to whoever may change them.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import inspect, select

from portal import scope
from portal.extensions import db
from portal.models import CustomerShare, User
from portal.permissions import can_action
from portal.services import BusinessRuleError, sharing


def _until(raw: str | None) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BusinessRuleError(gettext("共享截止日期格式应为 年-月-日")) from None


class SharingMixin:
    """Share routes and the shares card of a customer's details page."""

    details_template = "admin/sharing/customer_details.html"

    # -- what the page offers ------------------------------------------------------------
    def sharing_offered(self, model) -> bool:
        user = current_user._get_current_object()
        return can_action(user, "customer", "share") and sharing.may_share(model, user)

    def share_lines(self, model) -> list[sharing.ShareLine]:
        return sharing.share_lines(db.session, model)

    def share_candidates(self, model) -> list[User]:
        return sharing.share_candidates(db.session, model, by=current_user)

    # -- the routes ----------------------------------------------------------------------
    @expose("/<id>/share", methods=("POST",))
    def share_view(self, id):
        customer = self.get_one(id)
        colleague = scope.get_visible(db.session, User, request.form.get("user"), current_user)
        try:
            if not can_action(current_user, "customer", "share"):
                raise BusinessRuleError(gettext("只有客户负责人或本版块负责人可以设置共享"))
            if colleague is None:
                raise BusinessRuleError(gettext("请选择本版块的同事"))
            sharing.share_customer(
                db.session,
                customer,
                colleague,
                by=current_user._get_current_object(),
                can_edit=request.form.get("can_edit") in ("y", "1", "on", "true"),
                until=_until(request.form.get("until")),
                ip=request.remote_addr,
            )
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(gettext("已与 %(name)s 共享", name=colleague.display_name), "success")
        return redirect(self.get_url(".details_view", id=customer.id))

    @expose("/<id>/shares/<share_id>/revoke", methods=("POST",))
    def revoke_share_view(self, id, share_id):
        customer = self.get_one(id)
        share = db.session.scalar(
            select(CustomerShare).where(
                CustomerShare.id == (int(share_id) if share_id.isdigit() else -1),
                CustomerShare.customer_id == customer.id,
            )
        )
        if share is None:
            abort(404)
        name = share.user.display_name
        try:
            if not can_action(current_user, "customer", "share"):
                raise BusinessRuleError(gettext("只有客户负责人或本版块负责人可以设置共享"))
            sharing.revoke_share(
                db.session, share, by=current_user._get_current_object(), ip=request.remote_addr
            )
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(gettext("已取消与 %(name)s 的共享", name=name), "success")
        return redirect(self.get_url(".details_view", id=customer.id))

    # -- writes by a colleague with a read-write share -------------------------------------
    def check_write_scope(self, model):
        """A read-write share lets a colleague change the content of the customer, not its
        owner or division: when neither changes, the owner check does not apply to him."""
        state = inspect(model)
        if (
            state.persistent
            and not state.attrs.owner_id.history.has_changes()
            and not state.attrs.division_id.history.has_changes()
        ):
            return
        super().check_write_scope(model)
