"""Follow-up plans, actions and tasks (行动与回访)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import (
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal import scope
from portal.clock import now
from portal.i18n import choices
from portal.models import (
    Activity,
    FeedbackReason,
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
    form_columns = (
        "kind",
        "subject",
        "customer",
        "lead",
        "opportunity",
        "planned_at",
        "state",
        "done_at",
        "result",
        "feedback_reason",
        "feedback",
        "owner",
        "instruction",
        "instruction_reply",
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
        if model.state == "done" and model.done_at is None:
            model.done_at = now()
        # A removed WTForms field stays as an attribute set to None, hence not hasattr().
        instruction = getattr(form, "instruction", None)
        if instruction is not None and instruction.object_data != instruction.data:
            model.instruction_by_id = current_user.id
            model.instruction_at = now()
        super().on_model_change(form, model, is_created)
