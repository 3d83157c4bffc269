"""Service requests (客户服务)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import (
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import scope
from portal.i18n import choices
from portal.models import (
    ServicePriority,
    ServiceRequest,
    ServiceType,
)
from portal.views import formatters as fmt
from portal.views.children import COMMON_LABELS, ChildOfCustomerView
from portal.views.options import (
    assignable_users,
    lookup_options,
    lookup_query,
    user_options,
)
from portal.views.pickers import (
    contact_picker,
    customer_picker,
)


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
