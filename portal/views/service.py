"""Service requests (客户服务, R-SERVICE-1..3).

The form holds what the creator records; everything after creation is a transition: a
POST route that loads the request within scope (404 otherwise), calls
portal/services/service_requests.py, commits and flashes. Nothing changes when a rule
refuses. Preset lists: assigned to me, waiting for feedback, overdue by the priority's
SLA, the division head's queue of escalated complaints. /metrics/ shows R-SERVICE-3.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from portal import scope
from portal.clock import now
from portal.extensions import db
from portal.i18n import choices
from portal.models import ServicePriority, ServiceRequest, ServiceType, User
from portal.services import BusinessRuleError
from portal.services import service_requests as service
from portal.views import formatters as fmt
from portal.views.children import COMMON_LABELS, ChildOfCustomerView
from portal.views.options import lookup_options, lookup_query, user_options
from portal.views.pickers import contact_picker, customer_picker

LABELS = {
    **COMMON_LABELS,
    "owner": _l("创建人"),
    "summary": _l("摘要"),
    "contact": _l("联系人"),
    "type": _l("服务类型"),
    "channel": _l("渠道"),
    "direction": _l("呼入/呼出"),
    "priority": _l("优先级"),
    "status": _l("状态"),
    "description": _l("描述"),
    "handler": _l("处理人"),
    "handling_notes": _l("处理记录"),
    "result": _l("处理结果"),
    "satisfaction": _l("满意度"),
    "assigned_at": _l("分配时间"),
    "handling_at": _l("开始处理时间"),
    "resolved_at": _l("解决时间"),
    "responded_at": _l("反馈时间"),
    "archived_at": _l("归档时间"),
    "feedback_note": _l("反馈说明"),
    "reopened_count": _l("退回次数"),
    "escalated_at": _l("升级时间"),
}
GROUP_LABELS = {"handler": _l("按处理人"), "type": _l("按服务类型"), "month": _l("按月份")}


def _status(view, context, model, name):
    """The status, and "待反馈" while a resolved request waits for the customer."""
    if model.status == "handling" and model.resolved_at is not None:
        return gettext("待客户反馈")
    return fmt.enum("service_status", "status")(view, context, model, name)


def _satisfaction(view, context, model, name):
    return "★" * model.satisfaction if model.satisfaction else ""


def _date_arg(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


class ServiceRequestView(ChildOfCustomerView):
    details_template = "admin/service/details.html"
    list_template = "admin/service/list.html"

    # -- list -------------------------------------------------------------------------------
    column_list = (
        "summary",
        "customer",
        "type",
        "priority",
        "status",
        "handler",
        "owner",
        "created_at",
    )
    column_details_list = (
        "summary",
        "customer",
        "contact",
        "type",
        "channel",
        "direction",
        "priority",
        "status",
        "description",
        "owner",
        "created_at",
        "handler",
        "assigned_at",
        "handling_at",
        "handling_notes",
        "result",
        "resolved_at",
        "satisfaction",
        "feedback_note",
        "reopened_count",
        "responded_at",
        "archived_at",
        "escalated_at",
    )
    column_export_list = (
        "summary",
        "customer",
        "type",
        "channel",
        "priority",
        "status",
        "handler",
        "owner",
        "created_at",
        "handling_at",
        "resolved_at",
        "satisfaction",
        "reopened_count",
        "archived_at",
    )
    column_labels = LABELS
    column_searchable_list = ("summary",)
    column_sortable_list = ("created_at", "updated_at")
    column_default_sort = ("created_at", True)
    column_filters = (
        IntEqualFilter(ServiceRequest.type_id, _l("服务类型"), options=lookup_options(ServiceType)),
        IntEqualFilter(
            ServiceRequest.priority_id, _l("优先级"), options=lookup_options(ServicePriority)
        ),
        FilterEqual(ServiceRequest.status, _l("状态"), options=choices("service_status")),
        IntEqualFilter(ServiceRequest.handler_id, _l("处理人"), options=user_options),
    )
    column_formatters = {
        "status": _status,
        "channel": fmt.enum("channel", "channel"),
        "direction": fmt.enum("direction", "direction"),
        "satisfaction": _satisfaction,
    }
    column_formatters_export = {
        "status": fmt.enum("service_status", "status"),
        "channel": fmt.enum("channel", "channel"),
    }
    presets = (
        ("all", _l("全部服务单")),
        ("assigned_to_me", _l("分配给我")),
        ("waiting_feedback", _l("等待反馈")),
        ("overdue", _l("超时未响应")),
        ("escalated", _l("投诉升级（负责人待办）")),
        ("mine", _l("我创建的")),
    )

    # -- form: what the creator records; the rest are transitions ----------------------------
    form_columns = (
        "customer",
        "contact",
        "type",
        "channel",
        "direction",
        "priority",
        "summary",
        "description",
    )
    form_choices = {"channel": choices("channel"), "direction": choices("direction")}
    form_overrides = {"description": TextAreaField}
    form_ajax_refs = {"customer": customer_picker(), "contact": contact_picker()}
    form_args = {
        "type": {"query_factory": lookup_query(ServiceType), "allow_blank": False},
        "priority": {"query_factory": lookup_query(ServicePriority), "allow_blank": False},
    }

    def preset_filter(self, code):
        user = current_user
        return {
            "assigned_to_me": lambda: service.handler_todo(user),
            "waiting_feedback": service.waiting_feedback,
            "overdue": lambda: service.response_overdue(db.session, now()),
            "escalated": service.escalated_open,
            "mine": lambda: ServiceRequest.created_by_id == user.id,
        }.get(code, lambda: None)()

    def create_model(self, form):
        """创建 through the service: status new, the creator owns it, logged."""
        try:
            model = service.open_request(
                db.session,
                by=current_user._get_current_object(),
                customer=form.customer.data,
                contact=form.contact.data,
                type=form.type.data,
                priority=form.priority.data,
                channel=form.channel.data,
                direction=form.direction.data,
                summary=form.summary.data,
                description=form.description.data,
                ip=request.remote_addr,
            )
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
            return False
        return model

    def on_model_change(self, form, model, is_created):
        try:
            service.check_editable(model)
        except BusinessRuleError as error:
            raise ValidationError(str(error)) from None
        if model.contact is not None and model.contact.customer_id != model.customer_id:
            raise ValidationError(gettext("联系人不属于该客户"))
        super().on_model_change(form, model, is_created)

    # -- the lifecycle (R-SERVICE-1/2) -------------------------------------------------------
    def self_assign(self) -> bool:
        return bool(current_app.config.get("SERVICE_SELF_ASSIGN", service.SELF_ASSIGN_DEFAULT))

    def offered_verbs(self, model) -> list[str]:
        user = current_user._get_current_object()
        return [
            verb
            for verb in service.VERBS
            if self.is_action_allowed(verb)
            and service.may(model, verb, user, self_assign=self.self_assign())
        ]

    def handler_choices(self, model) -> list[User]:
        """Whom the current user may name: the division's people for a head, else himself."""
        user = current_user._get_current_object()
        if user.role_code in ("division_head", "group_manager"):
            return (
                db.session.query(User)
                .filter(
                    scope.visible(User, user),
                    User.division_id == model.division_id,
                    User.state == "active",
                    User.role_code.in_(service.HANDLER_ROLES),
                )
                .order_by(User.role_code, User.id)
                .all()
            )
        return [user]

    def _step(self, id, verb: str, operation, done):
        """Load within scope, run the transition, commit, flash; `done` is the success
        message, or a function of the operation's result giving (message, category)."""
        model = self.get_one(id)
        details = self.get_url(".details_view", id=model.id)
        if not self.is_action_allowed(verb):
            flash(gettext("您的角色不能办理此操作"), "error")
            return redirect(details)
        try:
            outcome = operation(model, current_user._get_current_object())
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
        except StaleDataError:
            db.session.rollback()
            flash(gettext("该服务单已被他人处理，请刷新后重试"), "error")
        else:
            flash(*(done(outcome) if callable(done) else (done, "success")))
        return redirect(details)

    @expose("/<int:id>/assign", methods=("POST",))
    def assign_view(self, id):
        handler = scope.get_visible(db.session, User, request.form.get("handler"), current_user)
        return self._step(
            id,
            "assign",
            lambda req, by: service.assign(
                db.session,
                req,
                handler,
                by=by,
                self_assign=self.self_assign(),
                ip=request.remote_addr,
            ),
            gettext("服务单已分配"),
        )

    @expose("/<int:id>/start", methods=("POST",))
    def start_view(self, id):
        return self._step(
            id,
            "start",
            lambda req, by: service.start_handling(db.session, req, by=by, ip=request.remote_addr),
            gettext("已开始处理"),
        )

    @expose("/<int:id>/resolve", methods=("POST",))
    def resolve_view(self, id):
        return self._step(
            id,
            "resolve",
            lambda req, by: service.resolve(
                db.session,
                req,
                by=by,
                notes=request.form.get("notes"),
                result=request.form.get("result"),
                ip=request.remote_addr,
            ),
            gettext("处理结果已登记，等待客户反馈"),
        )

    @expose("/<int:id>/feedback", methods=("POST",))
    def feedback_view(self, id):
        return self._step(
            id,
            "feedback",
            lambda req, by: service.record_feedback(
                db.session,
                req,
                by=by,
                satisfaction=request.form.get("satisfaction"),
                note=request.form.get("note"),
                ip=request.remote_addr,
            ),
            lambda closed: (
                (gettext("客户反馈已登记"), "success")
                if closed
                else (gettext("满意度低于 3 分，服务单已退回处理"), "warning")
            ),
        )

    @expose("/<int:id>/archive", methods=("POST",))
    def archive_view(self, id):
        return self._step(
            id,
            "archive",
            lambda req, by: service.archive(db.session, req, by=by, ip=request.remote_addr),
            gettext("服务单已归档"),
        )

    # -- metrics (R-SERVICE-3) ----------------------------------------------------------------
    @expose("/metrics/")
    def metrics_view(self):
        today = now().date()
        end = _date_arg("end", today)
        start = _date_arg("start", end - timedelta(days=29))
        group_by = request.args.get("group_by", "handler")
        if group_by not in service.GROUPS:
            group_by = "handler"
        if start > end:
            start, end = end, start
        metrics = service.service_metrics(
            db.session, current_user, start=start, end=end, group_by=group_by
        )
        return self.render(
            "admin/service/metrics.html",
            metrics=metrics,
            start=start,
            end=end,
            group_by=group_by,
            group_labels=GROUP_LABELS,
        )
