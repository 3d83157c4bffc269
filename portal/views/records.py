"""Contacts, leads, opportunities, activities, service requests, orders and campaigns."""

from __future__ import annotations

from flask import request
from flask_admin.contrib.sqla.filters import (
    DateBetweenFilter,
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal import scope
from portal.clock import now
from portal.extensions import db
from portal.i18n import choices
from portal.models import (
    Activity,
    Campaign,
    Contact,
    Customer,
    FeedbackReason,
    Grade,
    Lead,
    LostReason,
    Opportunity,
    Order,
    ServicePriority,
    ServiceRequest,
    ServiceType,
    Source,
    Stage,
)
from portal.validation import email, mobile, qq
from portal.views import formatters as fmt
from portal.views.base import PortalModelView
from portal.views.fields import RegionField
from portal.views.options import (
    assignable_users,
    lookup_options,
    lookup_query,
    user_options,
)
from portal.views.pickers import (
    contact_picker,
    customer_picker,
    lead_picker,
    opportunity_picker,
)

TEXT = {}
COMMON_LABELS = {
    "customer": _l("客户"),
    "owner": _l("负责人"),
    "division": _l("版块"),
    "created_at": _l("创建时间"),
    "updated_at": _l("更新时间"),
    "remark": _l("备注"),
    "mobile": _l("手机"),
    "email": _l("电子邮箱"),
    "phone": _l("电话"),
    "created_by": _l("创建人"),
}


class ChildOfCustomerView(PortalModelView):
    """Records that hang off a customer take its division (R-SCOPE-1)."""

    def on_model_change(self, form, model, is_created):
        customer = getattr(model, "customer", None)
        if customer is not None:
            if (
                not scope.sees_all(current_user)
                and customer.division_id != current_user.division_id
            ):
                raise ValidationError(_l("客户不在您的可见范围内"))
            model.division_id = customer.division_id
        elif is_created and scope.sees_all(current_user):
            raise ValidationError(_l("请选择客户"))
        super().on_model_change(form, model, is_created)

    def create_form(self, obj=None):
        form = super().create_form(obj)
        # "保存并创建商机" arrives with ?customer_id=: preselect it if in scope.
        customer_id = request.args.get("customer_id", "")
        if request.method == "GET" and customer_id.isdigit() and hasattr(form, "customer"):
            customer = (
                db.session.query(Customer)
                .filter(scope.visible(Customer, current_user), Customer.id == int(customer_id))
                .one_or_none()
            )
            if customer is not None:
                form.customer.data = customer
        return form


class ContactView(ChildOfCustomerView):
    column_list = (
        "name",
        "customer",
        "is_primary",
        "position",
        "mobile",
        "phone",
        "email",
        "owner",
        "updated_at",
    )
    column_labels = {
        **COMMON_LABELS,
        "name": _l("姓名"),
        "salutation": _l("称呼"),
        "gender": _l("性别"),
        "position": _l("职务"),
        "qq": _l("QQ"),
        "wechat": _l("微信"),
        "is_primary": _l("首要联系人"),
    }
    column_searchable_list = ("name", "mobile", "phone", "email")
    column_sortable_list = ("name", "updated_at", "created_at")
    column_filters = (
        IntEqualFilter(Contact.owner_id, _l("负责人"), options=user_options),
        DateTimeBetweenFilter(Contact.created_at, _l("创建时间")),
    )
    column_formatters = {
        "gender": fmt.enum("gender", "gender"),
        "mobile": fmt.masked_mobile_for_readers,
    }
    column_formatters_export = column_formatters
    form_columns = (
        "customer",
        "name",
        "salutation",
        "gender",
        "position",
        "mobile",
        "phone",
        "email",
        "qq",
        "wechat",
        "remark",
        "is_primary",
    )
    form_choices = {"gender": choices("gender")}
    form_ajax_refs = {"customer": customer_picker()}
    form_args = {
        "mobile": {"validators": [mobile]},
        "email": {"validators": [email]},
        "qq": {"validators": [qq]},
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.customer is not None:
            model.owner_id = model.customer.owner_id


class LeadView(PortalModelView):
    column_list = (
        "person_name",
        "company",
        "mobile",
        "source",
        "grade",
        "status",
        "owner",
        "created_at",
    )
    column_labels = {
        **COMMON_LABELS,
        "person_name": _l("姓名"),
        "company": _l("公司"),
        "source": _l("来源"),
        "referrer_customer": _l("推荐客户"),
        "introducer_name": _l("介绍人"),
        "campaign": _l("市场活动"),
        "grade": _l("等级"),
        "region_code": _l("所在地区"),
        "region": _l("所在地区"),
        "status": _l("状态"),
        "created_at": _l("报备时间"),
        "customer": _l("转化客户"),
        "converted_at": _l("转化时间"),
    }
    column_searchable_list = ("person_name", "company", "mobile")
    column_sortable_list = ("person_name", "created_at", "updated_at")
    column_default_sort = ("created_at", True)
    column_filters = (
        FilterEqual(Lead.status, _l("状态"), options=choices("lead_status")),
        IntEqualFilter(Lead.source_id, _l("来源"), options=lookup_options(Source)),
        IntEqualFilter(Lead.grade_id, _l("等级"), options=lookup_options(Grade)),
        IntEqualFilter(Lead.owner_id, _l("负责人"), options=user_options),
        DateTimeBetweenFilter(Lead.created_at, _l("报备时间")),
    )
    column_formatters = {
        "status": fmt.enum("lead_status", "status"),
        "mobile": fmt.masked_mobile_for_readers,
    }
    column_formatters_export = column_formatters
    form_columns = (
        "person_name",
        "company",
        "mobile",
        "email",
        "source",
        "referrer_customer",
        "introducer_name",
        "campaign",
        "grade",
        "region_code",
        "remark",
        "status",
        "owner",
    )
    form_extra_fields = {
        **PortalModelView.form_extra_fields,
        "region_code": RegionField(_l("所在地区")),
    }
    form_choices = {"status": [c for c in choices("lead_status") if c[0] != "converted"]}
    form_ajax_refs = {"referrer_customer": customer_picker("referrer_customer")}
    form_args = {
        "mobile": {"validators": [mobile]},
        "email": {"validators": [email]},
        "source": {"query_factory": lookup_query(Source)},
        "grade": {"query_factory": lookup_query(Grade)},
        "campaign": {
            "query_factory": lambda: db.session.query(Campaign).filter(
                scope.visible(Campaign, current_user)
            )
        },
        "owner": {"query_factory": assignable_users},
        "region_code": {"label": _l("所在地区")},
    }


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
        if hasattr(form, "instruction") and form.instruction.object_data != form.instruction.data:
            model.instruction_by_id = current_user.id
            model.instruction_at = now()
        super().on_model_change(form, model, is_created)


class ServiceRequestView(ChildOfCustomerView):
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
    column_labels = {
        **COMMON_LABELS,
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
    }
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
        "status": fmt.enum("service_status", "status"),
        "channel": fmt.enum("channel", "channel"),
        "direction": fmt.enum("direction", "direction"),
    }
    column_formatters_export = column_formatters
    form_columns = (
        "customer",
        "contact",
        "type",
        "channel",
        "direction",
        "priority",
        "summary",
        "description",
        "handler",
        "handling_notes",
        "result",
        "owner",
    )
    form_choices = {"channel": choices("channel"), "direction": choices("direction")}
    form_ajax_refs = {"customer": customer_picker(), "contact": contact_picker()}
    form_args = {
        "type": {"query_factory": lookup_query(ServiceType)},
        "priority": {"query_factory": lookup_query(ServicePriority)},
        "handler": {"query_factory": assignable_users},
        "owner": {"query_factory": assignable_users},
    }

    def _tailor_form(self, form):
        form = super()._tailor_form(form)
        if not (scope.sees_division(current_user) or scope.sees_all(current_user)):
            del form.handler  # assignment is the head's transition (R-SERVICE-1)
        return form


class OrderView(ChildOfCustomerView):
    column_list = ("number", "customer", "amount", "signed_on", "state", "owner")
    column_labels = {
        **COMMON_LABELS,
        "number": _l("订单号"),
        "opportunity": _l("商机"),
        "amount": _l("金额"),
        "signed_on": _l("签订日期"),
        "description": _l("内容"),
        "state": _l("状态"),
    }
    column_searchable_list = ("number",)
    column_sortable_list = ("number", "amount", "signed_on")
    column_default_sort = ("signed_on", True)
    column_filters = (
        FilterEqual(Order.state, _l("状态"), options=choices("order_state")),
        IntEqualFilter(Order.owner_id, _l("负责人"), options=user_options),
        DateBetweenFilter(Order.signed_on, _l("签订日期")),
    )
    column_formatters = {"amount": fmt.money, "state": fmt.enum("order_state", "state")}
    column_formatters_export = {"state": fmt.enum("order_state", "state")}
    form_columns = (
        "customer",
        "opportunity",
        "number",
        "amount",
        "signed_on",
        "description",
        "state",
        "owner",
    )
    form_choices = {"state": choices("order_state")}
    form_ajax_refs = {"customer": customer_picker(), "opportunity": opportunity_picker()}
    form_args = {"number": TEXT, "description": TEXT, "owner": {"query_factory": assignable_users}}


class CampaignView(PortalModelView):
    column_list = ("name", "theme", "channel", "starts_on", "ends_on", "budget", "actual_cost")
    column_labels = {
        **COMMON_LABELS,
        "name": _l("活动名称"),
        "theme": _l("主题"),
        "target_group": _l("目标人群"),
        "channel": _l("渠道"),
        "starts_on": _l("开始日期"),
        "ends_on": _l("结束日期"),
        "budget": _l("预算"),
        "actual_cost": _l("实际成本"),
    }
    column_searchable_list = ("name", "theme")
    column_formatters = {"budget": fmt.money, "actual_cost": fmt.money}
    form_columns = (
        "name",
        "theme",
        "target_group",
        "channel",
        "starts_on",
        "ends_on",
        "budget",
        "actual_cost",
    )
    form_args = {"name": TEXT, "theme": TEXT, "target_group": TEXT, "channel": TEXT}

    def on_model_change(self, form, model, is_created):
        if model.starts_on and model.ends_on and model.ends_on < model.starts_on:
            raise ValidationError(_l("结束日期不能早于开始日期"))
        if is_created and scope.sees_all(current_user):
            raise ValidationError(_l("集团人员请在版块内创建活动"))
        super().on_model_change(form, model, is_created)
