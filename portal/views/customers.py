"""Customers (客户) and the pool (公海)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import (
    BooleanEqualFilter,
    DateTimeBetweenFilter,
    FilterEqual,
    FilterLike,
    IntEqualFilter,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from portal.clock import now
from portal.extensions import db
from portal.i18n import choices, label
from portal.models import Contact, Customer, CustomerStanding, Grade, Industry, Source
from portal.services import BusinessRuleError, churn
from portal.services.customer360 import customer_profile
from portal.services.customers import name_taken, prepare_delete, sync_contacts
from portal.services.followups import change_grade, ensure_initial_plan
from portal.services.pool import find_duplicates
from portal.validation import Required, email, mobile, postcode, qq
from portal.views import formatters as fmt
from portal.views.base import PortalModelView
from portal.views.fields import RegionField
from portal.views.options import (
    assignable_users,
    division_options,
    lookup_options,
    lookup_query,
    province_options,
    user_options,
)
from portal.views.pool_actions import CustomerOwnershipActions, PoolActions, days_left_formatter
from portal.views.reports import CustomerProfilePrint
from portal.views.sharing import SharingMixin
from portal.views.workflow import duplicate_message

LABELS = {
    "name": _l("客户名称"),
    "kind": _l("客户类型"),
    "grade": _l("客户等级"),
    "industry": _l("行业"),
    "source": _l("客户来源"),
    "nature": _l("公司性质"),
    "revenue_band": _l("年营业额"),
    "employee_band": _l("员工人数"),
    "rating": _l("星级"),
    "region_code": _l("所在地区"),
    "region": _l("所在地区"),
    "address": _l("详细地址"),
    "postcode": _l("邮编"),
    "mobile": _l("手机"),
    "phone": _l("电话"),
    "email": _l("电子邮箱"),
    "wechat": _l("微信"),
    "qq": _l("QQ"),
    "weibo": _l("微博"),
    "remark": _l("备注"),
    "status": _l("客户状态"),
    "pinned": _l("置顶"),
    "owner": _l("负责人"),
    "division": _l("版块"),
    "value_class": _l("价值等级"),
    "churn_state": _l("流失状态"),
    "last_followup_at": _l("最近跟进"),
    "days_left": _l("距到期天数"),
    "next_followup_at": _l("下次跟进"),
    "created_at": _l("创建时间"),
    "updated_at": _l("更新时间"),
    "contacts": _l("联系人"),
    "in_pool_since": _l("进入公海时间"),
    "previous_owner": _l("前负责人"),
    "created_by": _l("创建人"),
    "locked": _l("锁定"),
}

TEXT_FIELD_ARGS = {}


class RegionPrefixFilter(FilterEqual):
    """Province filter: GB/T 2260 codes share the province's first two digits."""

    def apply(self, query, value, alias=None):
        return query.filter(Customer.region_code.like(f"{value}%"))

    def clean(self, value):
        return value if value.isdigit() and len(value) == 2 else "00"

    def operation(self):
        return _l("等于")


class ValueClassFilter(FilterEqual):
    """价值等级: the sweep's class, kept in customer_standings (R-VALUE-1)."""

    def apply(self, query, value, alias=None):
        return query.filter(
            Customer.id.in_(
                select(CustomerStanding.customer_id).where(CustomerStanding.value_class == value)
            )
        )


FILTERS = [
    IntEqualFilter(Customer.grade_id, _l("客户等级"), options=lookup_options(Grade)),
    IntEqualFilter(Customer.industry_id, _l("行业"), options=lookup_options(Industry)),
    IntEqualFilter(Customer.source_id, _l("客户来源"), options=lookup_options(Source)),
    IntEqualFilter(Customer.owner_id, _l("负责人"), options=user_options),
    RegionPrefixFilter(Customer.region_code, _l("省份"), options=province_options),
    FilterEqual(Customer.status, _l("客户状态"), options=choices("customer_status")),
    FilterEqual(Customer.kind, _l("客户类型"), options=choices("kind")),
    ValueClassFilter(Customer.id, _l("价值等级"), options=[("A", "A"), ("B", "B"), ("C", "C")]),
    BooleanEqualFilter(Customer.pinned, _l("置顶")),
    DateTimeBetweenFilter(Customer.created_at, _l("创建时间")),
    DateTimeBetweenFilter(Customer.updated_at, _l("更新时间")),
    DateTimeBetweenFilter(Customer.next_followup_at, _l("下次跟进")),
    FilterLike(Customer.address, _l("详细地址")),
    IntEqualFilter(Customer.division_id, _l("版块"), options=division_options),
]


class CustomerView(CustomerOwnershipActions, CustomerProfilePrint, SharingMixin, PortalModelView):
    column_filters = FILTERS
    list_template = "admin/customer_list.html"
    column_list = (
        "pinned",
        "name",
        "kind",
        "grade",
        "industry",
        "owner",
        "status",
        "mobile",
        "region",
        "next_followup_at",
        "days_left",
        "updated_at",
    )
    column_labels = LABELS
    column_searchable_list = ("name", "mobile")  # see portal/search.py
    column_sortable_list = (
        "name",
        "pinned",
        "next_followup_at",
        "updated_at",
        ("grade", "grade_id"),
        "created_at",
    )
    column_default_sort = [("pinned", True), ("updated_at", True)]
    column_formatters = {
        "kind": fmt.enum("kind", "kind"),
        "status": fmt.enum("customer_status", "status"),
        # From the customer's standing (portal/models/standing.py), not a column.
        "churn_state": fmt.enum("churn_state", "churn_state"),
        "value_class": lambda view, context, model, name: model.value_class or "",
        "mobile": fmt.masked_mobile_for_readers,
        "days_left": days_left_formatter,
    }
    column_formatters_export = column_formatters
    column_details_list = (
        "name",
        "kind",
        "grade",
        "industry",
        "source",
        "nature",
        "revenue_band",
        "employee_band",
        "rating",
        "region",
        "address",
        "postcode",
        "mobile",
        "phone",
        "email",
        "wechat",
        "qq",
        "weibo",
        "remark",
        "status",
        "pinned",
        "value_class",
        "churn_state",
        "owner",
        "division",
        "last_followup_at",
        "next_followup_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    column_export_list = (
        "name",
        "kind",
        "grade",
        "industry",
        "source",
        "owner",
        "status",
        "mobile",
        "phone",
        "email",
        "address",
        "created_at",
        "updated_at",
    )
    form_columns = (
        "name",
        "kind",
        "grade",
        "industry",
        "source",
        "nature",
        "revenue_band",
        "employee_band",
        "rating",
        "region_code",
        "address",
        "postcode",
        "mobile",
        "phone",
        "email",
        "wechat",
        "qq",
        "weibo",
        "remark",
        "status",
        "pinned",
        "owner",
        "division",
    )
    form_extra_fields = {
        **PortalModelView.form_extra_fields,
        "region_code": RegionField(_l("所在地区")),
    }
    form_choices = {
        "kind": choices("kind"),
        "status": choices("customer_status"),
        "rating": [("1", "★"), ("2", "★★"), ("3", "★★★")],
    }
    form_args = {
        "name": {"validators": [Required("请填写客户名")]},
        "mobile": {"validators": [mobile]},
        "postcode": {"validators": [postcode]},
        "email": {"validators": [email]},
        "qq": {"validators": [qq]},
        "grade": {"query_factory": lookup_query(Grade)},
        "industry": {"query_factory": lookup_query(Industry)},
        "source": {"query_factory": lookup_query(Source)},
        # Release to the pool is an action with a reason (R-POOL-4), not a blank owner.
        "owner": {"query_factory": assignable_users, "allow_blank": False},
        "region_code": {"label": _l("所在地区")},
    }
    form_excluded_columns = PortalModelView.form_excluded_columns
    inline_models = [
        (
            Contact,
            {
                "form_columns": (
                    "id",
                    "name",
                    "is_primary",
                    "gender",
                    "position",
                    "mobile",
                    "phone",
                    "email",
                    "qq",
                    "wechat",
                ),
                "column_labels": {
                    "name": _l("联系人姓名"),
                    "is_primary": _l("首要联系人"),
                    "gender": _l("性别"),
                    "position": _l("职务"),
                    "mobile": _l("手机"),
                    "phone": _l("电话"),
                    "email": _l("电子邮箱"),
                    "qq": _l("QQ"),
                    "wechat": _l("微信"),
                },
                "form_choices": {"gender": choices("gender")},
                "form_args": {
                    "name": {"validators": [Required("请填写客户名")]},
                    "mobile": {"validators": [mobile]},
                    "email": {"validators": [email]},
                    "qq": {"validators": [qq]},
                },
            },
        )
    ]
    presets = (
        ("all", _l("全部客户")),
        ("mine", _l("我的客户")),
        ("today", _l("今日新建")),
        ("week", _l("本周新建")),
        ("month", _l("本月新建")),
        ("updated30", _l("近30天更新")),
        ("nofollow3", _l("3天未跟进")),
        ("due_soon", _l("即将跟进")),
        ("expiring", _l("即将退回公海")),  # R-POOL-5 warning list (3 days)
    )
    extra_save_buttons = (("_add_opportunity", _l("保存并创建商机")),)

    def base_criterion(self):
        return Customer.owner_id.is_not(None)

    def preset_filter(self, code):
        today = now().replace(hour=0, minute=0, second=0)
        return {
            "mine": Customer.owner_id == current_user.id,
            "today": Customer.created_at >= today,
            "week": Customer.created_at >= today - timedelta(days=today.weekday()),
            "month": Customer.created_at >= today.replace(day=1),
            "updated30": Customer.updated_at >= today - timedelta(days=30),
            "nofollow3": or_(
                Customer.last_followup_at.is_(None),
                Customer.last_followup_at < now() - timedelta(days=3),
            ),
            "due_soon": Customer.next_followup_at.between(now(), now() + timedelta(days=3)),
            "expiring": self.expiring_filter(3) if code == "expiring" else None,
        }.get(code)

    def validate_form(self, form):
        """R-ENTRY-3: a customer name exists once per division; say so beside the field."""
        valid = super().validate_form(form)
        if request.method != "POST" or not getattr(form, "name", None) or not form.name.data:
            return valid
        division_id = current_user.division_id
        if getattr(form, "division", None) is not None and form.division.data is not None:
            division_id = form.division.data.id
        editing = request.args.get("id", "")
        exclude = int(editing) if editing.isdigit() else None
        if division_id and name_taken(db.session, division_id, form.name.data, exclude_id=exclude):
            form.name.errors = [*form.name.errors, gettext("本版块已有同名客户，不能重复建档")]
            return False
        return valid

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        sync_contacts(model, by=current_user)
        if is_created:  # the 48-hour plan comes next; its date is known now (no 2nd UPDATE)
            model.next_followup_at = model.next_followup_at or now() + timedelta(hours=48)
        else:  # R-GRADE-1: a new grade is logged and moves the next due date
            change_grade(db.session, model, g.get("audit_before", {}).get("grade_id"),
                         by=current_user._get_current_object())

    def on_model_delete(self, model):
        prepare_delete(db.session, model)
        super().on_model_delete(model)

    def after_model_change(self, form, model, is_created):
        if is_created:
            ensure_initial_plan(db.session, model, by=current_user)  # R-FOLLOW-1
            if model.mobile:  # R-ENTRY-3: same mobile elsewhere in the division is flagged
                for duplicate in find_duplicates(db.session, model.division_id,
                                                 mobile=model.mobile,
                                                 exclude_customer_id=model.id):
                    flash(duplicate_message(duplicate), "warning")
        super().after_model_change(form, model, is_created)

    def get_save_return_url(self, model, is_created=False):
        if is_created and "_add_opportunity" in request.form:
            return self.get_url("opportunity.create_view", customer_id=model.id)
        return super().get_save_return_url(model, is_created)

    # -- customer care (issue #6): the 360° page, churn lists and decisions ------------------
    # R-REPORT-6 and R-CHURN-1; the rules live in services/customer360.py and churn.py.
    details_template = "admin/customer_details.html"
    presets = (*presets, *((code, text) for code, text, _state in churn.PRESETS))
    _preset_filter_without_churn = preset_filter

    def preset_filter(self, code):
        criterion = churn.preset_criterion(code)
        return criterion if criterion is not None else self._preset_filter_without_churn(code)

    def profile(self, model):
        """The 360° sections, each within the viewer's scope."""
        return customer_profile(db.session, current_user._get_current_object(), model)

    def code_label(self, kind: str, code):
        return label(kind, code)

    def shown_mobile(self, record):
        return fmt.masked_mobile_for_readers(self, None, record, "mobile")

    def churn_offered(self, model, verb: str) -> bool:
        user = current_user._get_current_object()
        return self.is_action_allowed("churn") and churn.may(model, verb, user)

    @expose("/<int:id>/churn/<verb>", methods=("POST",))
    def churn_view(self, id, verb):
        """暂缓流失 (retain: measure and date) or 确认流失 (lose: reason)."""
        customer = self.get_one(id)
        details = self.get_url(".details_view", id=customer.id)
        if verb not in ("retain", "lose"):
            abort(404)
        user = current_user._get_current_object()
        try:
            if not self.is_action_allowed("churn"):
                raise BusinessRuleError(gettext("您的角色不能处理流失预警"))
            if verb == "retain":
                churn.retain(
                    db.session,
                    customer,
                    by=user,
                    measure=request.form.get("measure"),
                    until=_form_date(request.form.get("until")),
                    ip=request.remote_addr,
                )
            else:
                churn.confirm_lost(
                    db.session,
                    customer,
                    by=user,
                    reason=request.form.get("reason"),
                    ip=request.remote_addr,
                )
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
        except StaleDataError:
            db.session.rollback()
            flash(gettext("保存失败：该记录已被他人修改，请刷新后重试。"), "error")
        else:
            flash(gettext("已暂缓流失") if verb == "retain" else gettext("已确认流失"), "success")
        return redirect(details)


def _form_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


class PoolView(PoolActions, CustomerView):
    """公海: the division's customers without an owner (R-POOL-1)."""

    list_template = "admin/pool_list.html"
    POOL_ACTIONS = ("claim", "assign", "preview", "print_profile")

    def is_action_allowed(self, name: str) -> bool:
        # Release, lock, share and churn belong to owned customers, not the pool.
        return name in self.POOL_ACTIONS and super().is_action_allowed(name)

    column_list = (
        "name",
        "kind",
        "grade",
        "industry",
        "mobile",
        "region",
        "in_pool_since",
        "previous_owner",
        "updated_at",
    )
    column_formatters = {
        **CustomerView.column_formatters,
        "mobile": fmt.pool_masked,
        "phone": fmt.pool_masked,
        "email": fmt.pool_masked,
    }
    column_formatters_export = column_formatters
    column_default_sort = ("in_pool_since", True)
    presets = ()
    extra_save_buttons = ()

    def base_criterion(self):
        return Customer.owner_id.is_(None)
