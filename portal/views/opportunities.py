"""Opportunities (商机)."""

from __future__ import annotations

from flask import g
from flask_admin.contrib.sqla.filters import (
    DateBetweenFilter,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal.clock import now
from portal.extensions import db
from portal.models import (
    LostReason,
    Opportunity,
    Stage,
)
from portal.services.followups import ensure_initial_plan
from portal.services.opportunities import record_stage_change, stage_changed
from portal.views import formatters as fmt
from portal.views.children import COMMON_LABELS, ChildOfCustomerView
from portal.views.options import (
    assignable_users,
    lookup_options,
    lookup_query,
    user_options,
)
from portal.views.pickers import (
    customer_picker,
)


class OpportunityView(ChildOfCustomerView):
    column_list = (
        "title",
        "customer",
        "stage",
        "amount",
        "probability",
        "expected_close",
        "owner",
        "updated_at",
    )
    column_labels = {
        **COMMON_LABELS,
        "title": _l("商机名称"),
        "stage": _l("阶段"),
        "amount": _l("金额"),
        "probability": _l("赢率(%)"),
        "expected_close": _l("预计成交日期"),
        "lost_reason": _l("输单原因"),
        "closed_at": _l("关闭时间"),
    }
    column_searchable_list = ("title",)
    column_sortable_list = ("title", "amount", "expected_close", "updated_at")
    column_filters = (
        IntEqualFilter(Opportunity.stage_id, _l("阶段"), options=lookup_options(Stage)),
        IntEqualFilter(Opportunity.owner_id, _l("负责人"), options=user_options),
        DateBetweenFilter(Opportunity.expected_close, _l("预计成交日期")),
    )
    column_formatters = {"amount": fmt.money}
    form_columns = (
        "customer",
        "title",
        "amount",
        "expected_close",
        "stage",
        "probability",
        "lost_reason",
        "owner",
    )
    form_ajax_refs = {"customer": customer_picker()}
    form_args = {
        "stage": {"query_factory": lookup_query(Stage)},
        "lost_reason": {"query_factory": lookup_query(LostReason)},
        "owner": {"query_factory": assignable_users},
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.stage is not None and model.stage.outcome == "lost" and model.lost_reason is None:
            raise ValidationError(_l("输单必须选择输单原因"))
        if model.probability is None and model.stage is not None:
            model.probability = model.stage.probability
        user = current_user._get_current_object()
        if is_created:
            model.stage_entered_at = model.last_action_at = now()
        else:  # stage history, days in stage, won/lost closing (R-REPORT-4)
            stage_changed(db.session, model, g.get("audit_before", {}).get("stage_id"), by=user)

    def after_model_change(self, form, model, is_created):
        if is_created:
            record_stage_change(
                db.session,
                model,
                None,
                db.session.get(Stage, model.stage_id),
                at=model.stage_entered_at,
                by=current_user,
            )
            ensure_initial_plan(db.session, model, by=current_user)  # R-FOLLOW-1
        super().after_model_change(form, model, is_created)

    presets = (("all", _l("全部商机")), ("open", _l("进行中")), ("stale", _l("30天无行动")))

    def preset_filter(self, code):
        return {
            "open": Opportunity.closed_at.is_(None),
            "stale": Opportunity.stale_since.is_not(None),
        }.get(code)
