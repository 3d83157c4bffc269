"""Leads (线索)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import (
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import scope
from portal.extensions import db
from portal.i18n import choices
from portal.models import (
    Campaign,
    Grade,
    Lead,
    Source,
)
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
