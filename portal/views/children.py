"""Base for records that hang off a customer, and their shared labels."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal import scope
from portal.extensions import db
from portal.models import (
    Customer,
)
from portal.views.base import PortalModelView

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
