"""Contacts (联系人)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import (
    DateTimeBetweenFilter,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.i18n import choices
from portal.models import (
    Contact,
    Customer,
)
from portal.validation import email, mobile, qq
from portal.views import formatters as fmt
from portal.views.children import COMMON_LABELS, ChildOfCustomerView
from portal.views.options import (
    user_options,
)
from portal.views.pickers import (
    customer_picker,
)


class CustomerOwnerFilter(IntEqualFilter):
    """负责人 of a contact: its customer's owner (contacts keep no copy)."""

    def apply(self, query, value, alias=None):
        return query.filter(
            Contact.customer_id.in_(select(Customer.id).where(Customer.owner_id == value))
        )


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
        CustomerOwnerFilter(Contact.customer_id, _l("负责人"), options=user_options),
        DateTimeBetweenFilter(Contact.created_at, _l("创建时间")),
    )
    column_formatters = {
        "gender": fmt.enum("gender", "gender"),
        "mobile": fmt.masked_mobile_for_readers,
        # The customer's owner (no column of its own); a pool customer's contacts have none.
        "owner": lambda view, context, model, name: model.owner or "",
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

    assign_creator_as_owner = False  # a contact's owner is its customer's
