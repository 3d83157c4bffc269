"""Orders (订单)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import (
    DateBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.extensions import db
from portal.i18n import choices
from portal.models import (
    Order,
)
from portal.services.churn import on_order_recorded
from portal.services.followups import plan_followups_for_order
from portal.views import formatters as fmt
from portal.views.children import COMMON_LABELS, ChildOfCustomerView
from portal.views.options import (
    assignable_users,
    user_options,
)
from portal.views.pickers import (
    customer_picker,
    opportunity_picker,
)


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
    form_args = {"owner": {"query_factory": assignable_users}}

    def after_model_change(self, form, model, is_created):
        """R-FOLLOW-3: the purchase plans (none twice; cancelled with the order); an order
        also clears a churn warning (R-CHURN-1)."""
        user = current_user._get_current_object()
        plan_followups_for_order(db.session, model, by=user)
        on_order_recorded(db.session, model, by=user)
        super().after_model_change(form, model, is_created)
