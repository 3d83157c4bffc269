"""Search-as-you-type relation pickers, each bounded by the user's scope."""

from __future__ import annotations

from portal.models import Contact, Customer, Lead, Opportunity
from portal.views.base import ScopedAjaxLoader


def _owned_customers():
    # Pool customers are claimed first, not attached to records (R-POOL-2).
    return Customer.owner_id.is_not(None)


def customer_picker(name: str = "customer") -> ScopedAjaxLoader:
    return ScopedAjaxLoader(
        name,
        Customer,
        ["name", "mobile"],
        criterion=_owned_customers,
        placeholder="输入客户名称或手机号",
    )


def contact_picker() -> ScopedAjaxLoader:
    return ScopedAjaxLoader("contact", Contact, ["name", "mobile"])


def lead_picker() -> ScopedAjaxLoader:
    return ScopedAjaxLoader("lead", Lead, ["person_name", "company", "mobile"])


def opportunity_picker() -> ScopedAjaxLoader:
    return ScopedAjaxLoader("opportunity", Opportunity, ["title"])
