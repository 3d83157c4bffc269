"""Follow-up plans, actions and tasks (行动与回访)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import (
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_
from wtforms.validators import ValidationError

from portal import scope
from portal.clock import now
from portal.extensions import db
from portal.i18n import choices
from portal.models import (
    Activity,
    FeedbackReason,
)
from portal.services import BusinessRuleError
from portal.services.followups import (
    acknowledge_instruction,
    complete_plan,
    escalation_criterion,
    grade_interval,
    overdue_criterion,
    start_of_day,
    write_instruction,
)
from portal.views import formatters as fmt
from portal.views.base import PortalModelView
from portal.views.children import COMMON_LABELS
from portal.views.options import (
    assignable_users,
    lookup_query,
    user_options,
)
from portal.views.pickers import (
    customer_picker,
    lead_picker,
    opportunity_picker,
)
from portal.views.workflow import CompleteForm, ReplyForm, as_id, page


class ActivityView(PortalModelView):
    column_list = (
        "subject",
        "kind",
        "customer",
        "planned_at",
        "state",
        "done_at",
        "owner",
        "instruction",
    )
    column_labels = {
        **COMMON_LABELS,
        "subject": _l("主题"),
        "kind": _l("类型"),
        "lead": _l("线索"),
        "opportunity": _l("商机"),
        "planned_at": _l("计划时间"),
        "done_at": _l("完成时间"),
        "state": _l("状态"),
        "result": _l("结果"),
        "feedback_reason": _l("客户反馈"),
        "feedback": _l("反馈说明"),
        "instruction": _l("领导批示"),
        "instruction_reply": _l("批示回复"),
        "owner": _l("执行人"),
    }
    column_searchable_list = ("subject",)
    column_sortable_list = ("planned_at", "done_at", "updated_at")
    column_default_sort = ("planned_at", False)
    column_filters = (
        FilterEqual(Activity.kind, _l("类型"), options=choices("activity_kind")),
        FilterEqual(Activity.state, _l("状态"), options=choices("activity_state")),
        IntEqualFilter(Activity.owner_id, _l("执行人"), options=user_options),
        DateTimeBetweenFilter(Activity.planned_at, _l("计划时间")),
    )
    column_formatters = {
        "kind": fmt.enum("activity_kind", "kind"),
        "state": fmt.enum("activity_state", "state"),
    }
    column_formatters_export = column_formatters
    # Completion (state, done_at, feedback, result) and the reply go through their own
    # pages, so R-FOLLOW-2's rules cannot be bypassed by the edit form.
    form_columns = (
        "kind",
        "subject",
        "customer",
        "lead",
        "opportunity",
        "planned_at",
        "owner",
        "instruction",
    )
    form_choices = {"kind": choices("activity_kind"), "state": choices("activity_state")}
    form_ajax_refs = {
        "customer": customer_picker(),
        "lead": lead_picker(),
        "opportunity": opportunity_picker(),
    }
    form_args = {
        "feedback_reason": {"query_factory": lookup_query(FeedbackReason)},
        "owner": {"query_factory": assignable_users},
    }

    def _tailor_form(self, form):
        form = super()._tailor_form(form)
        # 领导批示 is written only by a division head or group manager (R-FOLLOW-6).
        if current_user.role_code not in ("division_head", "group_manager"):
            del form.instruction
        return form

    def on_model_change(self, form, model, is_created):
        subject = model.customer or model.lead or model.opportunity
        if subject is None:
            raise ValidationError(_l("请选择客户、线索或商机"))
        if not scope.sees_all(current_user) and subject.division_id != current_user.division_id:
            raise ValidationError(_l("所选对象不在您的可见范围内"))
        model.division_id = subject.division_id
        # A removed WTForms field stays as an attribute set to None, hence not hasattr().
        instruction = getattr(form, "instruction", None)
        if instruction is not None and instruction.object_data != instruction.data:
            if instruction.data:
                write_instruction(db.session, model, instruction.data, by=current_user)
            else:
                model.instruction_by_id = model.instruction_at = None
        super().on_model_change(form, model, is_created)

    # -- workflow (issue #5): presets, completion with feedback, leader instructions -------
    details_template = "admin/activity_details.html"
    presets = (
        ("all", _l("全部")),
        ("mine", _l("我的待办")),
        ("today", _l("今日计划")),
        ("overdue", _l("已逾期")),
        ("to_ack", _l("待回复的领导批示")),
        ("escalated", _l("升级队列")),
    )

    def preset_filter(self, code):
        at = now()
        start = start_of_day(at)
        mine = Activity.owner_id == current_user.id
        return {
            "mine": and_(mine, Activity.state == "pending"),
            "today": and_(
                Activity.state == "pending",
                Activity.planned_at >= start,
                Activity.planned_at < start + timedelta(days=1),
            ),
            "overdue": overdue_criterion(at),
            "to_ack": and_(
                mine, Activity.instruction.is_not(None), Activity.instruction_ack_at.is_(None)
            ),
            "escalated": escalation_criterion(at),
        }.get(code)

    def may_complete(self, model) -> bool:
        return (
            model.state == "pending"
            and self.is_action_allowed("complete")
            and (model.owner_id == current_user.id or not current_user.role_code == "clerk")
        )

    def may_acknowledge(self, model) -> bool:
        return (
            bool(model.instruction)
            and model.instruction_ack_at is None
            and model.owner_id == current_user.id
        )

    @expose("/complete/", methods=("GET", "POST"))
    def complete_view(self):
        """R-FOLLOW-2: feedback required; the next plan within the grade's interval."""
        plan = self.get_one(request.args.get("id"))
        if not self.may_complete(plan):
            abort(404)
        form = CompleteForm()
        form.feedback_reason.choices = [("", gettext("请选择"))] + [
            (str(r.id), r.name) for r in lookup_query(FeedbackReason)()
        ]
        subject = plan.opportunity or plan.lead or plan.customer
        grade, days = grade_interval(db.session, subject)
        intro = gettext(
            "%(grade)s 级：下次回访最晚在 %(days)s 天内；可提前，不可推后（R-GRADE-1）",
            grade=grade,
            days=days,
        )
        if request.method == "POST" and form.validate():
            try:
                following = complete_plan(
                    db.session,
                    plan,
                    by=current_user._get_current_object(),
                    feedback_reason_id=as_id(form.feedback_reason.data),
                    feedback=form.feedback.data,
                    result=form.result.data,
                    next_at=form.next_at.data,
                )
                db.session.commit()
            except BusinessRuleError as error:
                db.session.rollback()  # the form keeps what was typed
                flash(str(error), "error")
            else:
                if following is not None:
                    when = f"{following.planned_at:%Y-%m-%d %H:%M}"
                    flash(gettext("已完成；下次回访：%(at)s", at=when), "success")
                else:
                    flash(gettext("已完成"), "success")
                return redirect(self.get_url(".details_view", id=plan.id))
        return page(
            self,
            title=gettext("完成回访：%(s)s", s=plan.subject),
            form=form,
            submit_label=gettext("完成"),
            intro=intro,
            back_url=self.get_url(".details_view", id=plan.id),
        )

    @expose("/acknowledge/", methods=("GET", "POST"))
    def acknowledge_view(self):
        """R-FOLLOW-6: the assignee acknowledges the leader instruction and replies."""
        plan = self.get_one(request.args.get("id"))
        if not self.may_acknowledge(plan):
            abort(404)
        form = ReplyForm()
        if request.method == "POST" and form.validate():
            try:
                acknowledge_instruction(
                    db.session, plan, form.reply.data, by=current_user._get_current_object()
                )
                db.session.commit()
            except BusinessRuleError as error:
                db.session.rollback()
                form.reply.errors = [*form.reply.errors, str(error)]
            else:
                flash(gettext("已回复领导批示"), "success")
                return redirect(self.get_url(".details_view", id=plan.id))
        return page(
            self,
            title=gettext("回复领导批示"),
            form=form,
            submit_label=gettext("回复"),
            intro=plan.instruction,
            back_url=self.get_url(".details_view", id=plan.id),
        )
