"""Leads (线索)."""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import (
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal import scope
from portal.database import begin_write
from portal.extensions import db
from portal.i18n import choices, label
from portal.models import (
    Campaign,
    Customer,
    Grade,
    Lead,
    Source,
    Stage,
    User,
)
from portal.services import BusinessRuleError
from portal.services.followups import ensure_initial_plan
from portal.services.leads import OpportunityDraft, convert_lead, convert_many, duplicate_customers
from portal.services.pool import find_duplicates
from portal.validation import email, mobile
from portal.views import formatters as fmt
from portal.views.base import PortalModelView
from portal.views.children import COMMON_LABELS
from portal.views.fields import RegionField
from portal.views.options import (
    assignable_users,
    lookup_options,
    lookup_query,
    user_options,
)
from portal.views.pickers import (
    customer_picker,
)
from portal.views.workflow import ConvertForm, as_id, duplicate_message, ids_arg, page


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

    # -- workflow (issue #5): 48-hour plan, duplicate flag, conversion ----------------------
    presets = (
        ("all", _l("全部线索")),
        ("mine", _l("我的线索")),
        ("open", _l("未转化")),
        ("stale", _l("30天无行动")),
    )

    def preset_filter(self, code):
        return {
            "mine": Lead.owner_id == current_user.id,
            "open": Lead.status.in_(("new", "following")),
            "stale": Lead.stale_since.is_not(None),
        }.get(code)

    def after_model_change(self, form, model, is_created):
        if is_created:
            ensure_initial_plan(db.session, model, by=current_user)
            # R-ENTRY-3: a lead may be saved although it duplicates; the clerk is told whose.
            for duplicate in find_duplicates(
                db.session,
                model.division_id,
                name=model.company or model.person_name,
                mobile=model.mobile,
                exclude_lead_id=model.id,
            ):
                flash(duplicate_message(duplicate), "warning")
        super().after_model_change(form, model, is_created)

    @action("convert", _l("转化"))
    def action_convert(self, ids):
        return redirect(self.get_url(".convert_view", ids=",".join(ids)))

    @expose("/convert/", methods=("GET", "POST"))
    def convert_view(self):
        """R-CONVERT-1: one or several leads become customers (or link to a duplicate)."""
        if not self.is_action_allowed("convert"):
            abort(404)
        leads = self.get_in_scope(ids_arg(), for_edit=True)
        if not leads:
            flash(gettext("请选择要转化的线索"), "error")
            return redirect(self.get_url(".index_view"))
        user = current_user._get_current_object()
        form = ConvertForm()
        single = leads[0] if len(leads) == 1 else None
        visible_duplicates = []
        warnings = []
        if single is not None:
            for customer in duplicate_customers(db.session, single):
                if db.session.scalar(
                    select(Customer.id).where(
                        Customer.id == customer.id, scope.visible(Customer, user)
                    )
                ):
                    visible_duplicates.append(customer)
                else:
                    owner = customer.owner.display_name if customer.owner else gettext("公海")
                    warnings.append(
                        gettext("本版块已有同名或同手机号客户（负责人：%(owner)s）", owner=owner)
                    )
        form.link_to.choices = [("", gettext("新建客户"))] + [
            (str(c.id), gettext("关联到已有客户：%(name)s", name=c.name))
            for c in visible_duplicates
        ]
        form.stage.choices = [
            (str(s.id), s.name)
            for s in db.session.scalars(
                select(Stage)
                .where(Stage.active.is_(True), Stage.outcome == "open")
                .order_by(Stage.sort_order)
            )
        ]
        can_share = scope.sees_division(user) or scope.sees_all(user)
        if can_share:
            form.owners.choices = [
                (str(u.id), u.display_name)
                for u in assignable_users().filter(User.role_code == "clerk")
            ]
        else:
            del form.owners
        if single is None:
            del form.link_to
        if request.method == "POST" and form.validate():
            try:
                customers = self._convert(leads, form, user)
                db.session.commit()
            except BusinessRuleError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                flash(gettext("已转化 %(n)s 条线索", n=len(customers)), "success")
                if len(customers) == 1:
                    return redirect(self.get_url("customer.details_view", id=customers[0].id))
                return redirect(self.get_url(".index_view"))
        return page(
            self,
            title=gettext("线索转化"),
            form=form,
            submit_label=gettext("转化"),
            records=[
                (
                    lead.person_name,
                    lead.company or "",
                    lead.mobile or "",
                    label("lead_status", lead.status),
                )
                for lead in leads
            ],
            record_headers=(gettext("姓名"), gettext("公司"), gettext("手机"), gettext("状态")),
            warnings=warnings,
            hidden={"ids": ",".join(str(x.id) for x in leads)},
        )

    def _convert(self, leads, form, user):
        stage_id = as_id(form.stage.data)
        stage = db.session.get(Stage, stage_id) if stage_id else None
        if len(leads) == 1:
            lead = leads[0]
            link = None
            if getattr(form, "link_to", None) is not None and form.link_to.data:
                link = db.session.scalar(
                    select(Customer).where(
                        Customer.id == as_id(form.link_to.data), scope.visible(Customer, user)
                    )
                )
            draft = None
            if form.create_opportunity.data:
                draft = OpportunityDraft(
                    title=form.opportunity_title.data or f"{lead.company or lead.person_name}商机",
                    amount=form.opportunity_amount.data,
                    stage=stage,
                )
            owners = self._owners(form, leads)
            begin_write(db.session)
            lead = db.session.get(Lead, lead.id)
            return [
                convert_lead(
                    db.session,
                    lead,
                    by=user,
                    link_to=link,
                    opportunity=draft,
                    owner=owners[0] if owners else None,
                )
            ]
        return convert_many(
            db.session,
            leads,
            by=user,
            owners=self._owners(form, leads),
            with_opportunity=bool(form.create_opportunity.data),
        )

    def _owners(self, form, leads):
        if getattr(form, "owners", None) is None or not form.owners.data:
            return []
        divisions = {lead.division_id for lead in leads}
        allowed = {u.id: u for u in assignable_users() if u.division_id in divisions}
        return [allowed[as_id(i)] for i in form.owners.data if as_id(i) in allowed]
