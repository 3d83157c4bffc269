"""Named list formatters: codes to labels, masking. Jinja escapes what they return."""

from __future__ import annotations

from flask_login import current_user

from portal import scope
from portal.i18n import label
from portal.services.audit import mask_mobile


def enum(kind: str, attr: str):
    def format_(view, context, model, name):
        return label(kind, getattr(model, attr))

    return format_


def money(view, context, model, name):
    value = getattr(model, name)
    return "" if value is None else f"¥{value:,.2f}"


def pool_masked(view, context, model, name):
    """Hidden pool fields stay masked for clerks until the customer is claimed (R-POOL-1)."""
    value = getattr(model, name)
    if model.owner_id is None and current_user.role_code == "clerk" and value:
        return mask_mobile(value) if name in ("mobile", "phone") else "***"
    return value


def masked_mobile_for_readers(view, context, model, name):
    """Roles that only read (division admin) see masked mobiles (R-AUDIT-2)."""
    value = getattr(model, name)
    if (
        value
        and not (scope.sees_all(current_user) and current_user.role_code == "sysadmin")
        and current_user.role_code == "division_admin"
    ):
        return mask_mobile(value)
    return value
