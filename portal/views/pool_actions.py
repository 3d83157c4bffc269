"""Pool and ownership actions (R-POOL-2..7) for the customer and pool lists: claim, assign,
preview of tomorrow's returns, release with a reason, lock, hand-over, days left."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal import scope
from portal.clock import now
from portal.extensions import db
from portal.models import Customer, User
from portal.services import BusinessRuleError
from portal.services.handover import hand_over
from portal.services.pool import (
    assign,
    claim,
    days_left,
    expiring_criterion,
    preview_returns,
    release,
    rules_of,
    set_lock,
)
from portal.views.options import assignable_users
from portal.views.workflow import AssignForm, HandoverForm, ReasonForm, as_id, ids_arg, page


def _user():
    return current_user._get_current_object()


def days_left_formatter(view, context, model, name):
    """距到期天数 (R-POOL-5): per-request cache of the division's rules."""
    cache = g.setdefault("pool_rules", {})
    if model.division_id not in cache:
        cache[model.division_id] = rules_of(db.session, model.division_id)
    left = days_left(cache[model.division_id], model, now())
    return "" if left is None else max(left, 0)


class PoolActions:
    """Claim and assign from the pool list; the preview of tomorrow's sweep."""

    @action("claim", _l("领取"), _l("确定领取所选客户吗？"))
    def action_claim(self, ids):
        try:
            count = claim(db.session, [int(i) for i in ids if str(i).isdigit()], user=_user())
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(gettext("已领取 %(n)s 个客户", n=count), "success")

    @action("assign", _l("分配"))
    def action_assign(self, ids):
        return redirect(self.get_url(".assign_view", ids=",".join(ids)))

    @expose("/assign/", methods=("GET", "POST"))
    def assign_view(self):
        """R-POOL-3: the head gives pool customers to a clerk, caps overridable (logged)."""
        if not self.is_action_allowed("assign"):
            abort(404)
        customers = self.get_in_scope(ids_arg(), for_edit=False)
        if not customers:
            flash(gettext("请选择要分配的客户"), "error")
            return redirect(self.get_url(".index_view"))
        form = AssignForm()
        users = {
            u.id: u
            for u in assignable_users().filter(User.role_code.in_(("clerk", "division_head")))
        }
        form.to_user.choices = [(str(i), u.display_name) for i, u in users.items()]
        if request.method == "POST" and form.validate():
            target = users.get(as_id(form.to_user.data))
            try:
                if target is None:
                    raise BusinessRuleError(gettext("请选择本版块的业务人员"))
                count = assign(
                    db.session,
                    [c.id for c in customers],
                    to_user=target,
                    by=_user(),
                    override=form.override.data,
                )
                db.session.commit()
            except BusinessRuleError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                flash(
                    gettext("已分配 %(n)s 个客户给 %(name)s", n=count, name=target.display_name),
                    "success",
                )
                return redirect(self.get_url(".index_view"))
        return page(
            self,
            title=gettext("分配公海客户"),
            form=form,
            submit_label=gettext("分配"),
            records=[(c.name, c.grade.name if c.grade else "") for c in customers],
            record_headers=(gettext("客户"), gettext("等级")),
            hidden={"ids": ",".join(str(c.id) for c in customers)},
        )

    @expose("/preview/")
    def preview_view(self):
        """R-POOL-5: which customers tomorrow's sweep returns, and why."""
        if not self.is_action_allowed("preview"):
            abort(404)
        user = _user()
        tomorrow = now().date() + timedelta(days=1)
        divisions = (
            [user.division_id]
            if user.division_id
            else list(db.session.scalars(select(Customer.division_id).distinct()))
        )
        owners = dict(db.session.execute(select(User.id, User.display_name)).all())
        rows = []
        for division_id in divisions:
            for candidate in preview_returns(db.session, division_id, tomorrow):
                rows.append((candidate.name, owners.get(candidate.owner_id, ""), candidate.reason))
        return page(
            self,
            title=gettext("明日自动退回公海预览（%(day)s）", day=tomorrow.isoformat()),
            records=rows,
            record_headers=(gettext("客户"), gettext("负责人"), gettext("原因")),
            intro=gettext("共 %(n)s 个客户", n=len(rows)),
        )


class CustomerOwnershipActions:
    """Release, lock and hand-over on the customer list (R-POOL-4/5/7)."""

    def expiring_filter(self, within: int = 3):
        user = _user()
        return expiring_criterion(
            db.session, None if scope.sees_all(user) else user.division_id, now(), within
        )

    @action("release", _l("放入公海"))
    def action_release(self, ids):
        return redirect(self.get_url(".release_view", ids=",".join(ids)))

    @expose("/release/", methods=("GET", "POST"))
    def release_view(self):
        if not self.is_action_allowed("release"):
            abort(404)
        customers = self.get_in_scope(ids_arg(), for_edit=True)
        if not customers:
            flash(gettext("请选择客户"), "error")
            return redirect(self.get_url(".index_view"))
        form = ReasonForm()
        if request.method == "POST" and form.validate():
            try:
                for customer in customers:
                    release(db.session, customer, by=_user(), reason=form.reason.data)
                db.session.commit()
            except BusinessRuleError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                flash(gettext("已放入公海 %(n)s 个客户", n=len(customers)), "success")
                return redirect(self.get_url(".index_view"))
        return page(
            self,
            title=gettext("放入公海"),
            form=form,
            submit_label=gettext("放入公海"),
            records=[(c.name,) for c in customers],
            record_headers=(gettext("客户"),),
            hidden={"ids": ",".join(str(c.id) for c in customers)},
        )

    @action("lock", _l("锁定"))
    def action_lock(self, ids):
        self._set_lock(ids, True)

    @action("unlock", _l("解除锁定"))
    def action_unlock(self, ids):
        self._set_lock(ids, False)

    def _set_lock(self, ids, locked):
        if not self.is_action_allowed("lock"):
            abort(404)
        try:
            for customer in self.get_in_scope(ids, for_edit=True):
                set_lock(db.session, customer, locked, by=_user())
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(gettext("已锁定") if locked else gettext("已解除锁定"), "success")

    @expose("/handover/", methods=("GET", "POST"))
    def handover_view(self):
        """R-POOL-7 交接: every customer of a clerk, with what hangs off them, to a colleague
        or to the pool."""
        if not self.is_action_allowed("handover"):
            abort(404)
        users = {
            u.id: u
            for u in assignable_users().filter(User.role_code.in_(("clerk", "division_head")))
        }
        form = HandoverForm()
        form.from_user.choices = [(str(i), u.display_name) for i, u in users.items()]
        form.to_user.choices = [("", gettext("公海"))] + form.from_user.choices
        if request.method == "POST" and form.validate():
            giver = users.get(as_id(form.from_user.data))
            taker = users.get(as_id(form.to_user.data))
            try:
                if giver is None:
                    raise BusinessRuleError(gettext("请选择交出人"))
                moved = hand_over(db.session, giver, taker, by=_user(), reason=form.reason.data)
                db.session.commit()
            except BusinessRuleError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                flash(gettext("已交接 %(n)s 个客户", n=moved), "success")
                return redirect(self.get_url(".index_view"))
        return page(self, title=gettext("客户交接"), form=form, submit_label=gettext("交接"))
