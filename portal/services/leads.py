"""Lead conversion 转化 (R-CONVERT-1/2): customer (new or an existing duplicate), primary
contact, optional opportunity, the lead's plans carried over — in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal.clock import now
from portal.database import begin_write
from portal.models import Activity, Contact, Customer, Lead, Stage, User
from portal.services import BusinessRuleError
from portal.services.audit import record_event
from portal.services.followups import ensure_initial_plan
from portal.services.opportunities import open_opportunity

CONVERTIBLE = ("new", "following")


@dataclass
class OpportunityDraft:
    title: str
    amount: Decimal | None = None
    stage: Stage | None = None


def duplicate_customers(session: Session, lead: Lead) -> list[Customer]:
    """Customers of the lead's division with the same name (person or company) or mobile."""
    names = [n for n in (lead.company, lead.person_name) if n]
    conditions = [Customer.name.in_(names)] if names else []
    if lead.mobile:
        conditions.append(Customer.mobile == lead.mobile)
    if not conditions:
        return []
    return list(
        session.scalars(
            select(Customer)
            .where(Customer.division_id == lead.division_id, or_(*conditions))
            .order_by(Customer.id)
        )
    )


def convert_lead(
    session: Session,
    lead: Lead,
    *,
    by: User,
    link_to: Customer | None = None,
    opportunity: OpportunityDraft | None = None,
    owner: User | None = None,
    at: datetime | None = None,
) -> Customer:
    """Convert one lead; raises BusinessRuleError when it was converted or invalid already.

    The status flip is a conditional UPDATE, so two clerks converting the same lead at
    the same moment convert it once.
    """
    at = at or now()
    if owner is not None and owner.division_id != lead.division_id:
        raise BusinessRuleError(_l("负责人必须是线索所在版块的人员（R-SCOPE-1）"))
    owner_id = owner.id if owner is not None else (lead.owner_id or by.id)
    flipped = session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.status.in_(CONVERTIBLE))
        .values(status="converted", converted_at=at, owner_id=owner_id, version=Lead.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not flipped:
        session.refresh(lead)
        state = _l("已转化") if lead.status == "converted" else _l("无效")
        raise BusinessRuleError(
            _l(
                "线索“%(name)s”状态为%(state)s，不能再转化（R-CONVERT-2）",
                name=lead.person_name,
                state=state,
            )
        )
    session.refresh(lead)
    if link_to is not None:
        if link_to.division_id != lead.division_id:
            raise BusinessRuleError(_l("只能关联本版块的客户"))
        customer = link_to
    else:
        name = (lead.company or lead.person_name).strip()
        taken = session.scalar(
            select(Customer.id).where(
                Customer.division_id == lead.division_id, Customer.name == name
            )
        )
        if taken:
            raise BusinessRuleError(
                _l("本版块已有客户“%(name)s”，请选择关联到该客户（R-ENTRY-3）", name=name)
            )
        customer = Customer(
            name=name,
            kind="company" if lead.company else "person",
            division_id=lead.division_id,
            owner_id=owner_id,
            created_by_id=by.id,
            source_id=lead.source_id,
            grade_id=lead.grade_id,
            region_code=lead.region_code,
            remark=lead.remark,
            mobile=lead.mobile,
            email=lead.email,
            status="following",
        )
        session.add(customer)
        session.flush()
    if lead.mobile is None or not session.scalar(
        select(Contact.id).where(Contact.customer_id == customer.id, Contact.mobile == lead.mobile)
    ):
        has_primary = session.scalar(
            select(Contact.id).where(
                Contact.customer_id == customer.id, Contact.is_primary.is_(True)
            )
        )
        session.add(
            Contact(
                customer_id=customer.id,
                division_id=customer.division_id,
                created_by_id=by.id,
                name=lead.person_name,
                mobile=lead.mobile,
                email=lead.email,
                is_primary=not has_primary,
            )
        )
    lead.customer_id = customer.id
    # The lead's follow-ups stay on the lead and become visible from the customer too.
    session.execute(
        update(Activity)
        .where(Activity.lead_id == lead.id)
        .values(customer_id=customer.id)
        .execution_options(synchronize_session=False)
    )
    if opportunity is not None:
        created = open_opportunity(
            session,
            customer,
            title=opportunity.title,
            amount=opportunity.amount,
            stage=opportunity.stage,
            owner_id=customer.owner_id or owner_id,
            by=by,
            at=at,
        )
        lead.opportunity_id = created.id
    ensure_initial_plan(session, customer, by=by, at=at)
    record_event(
        session, "convert", lead, user=by, summary=f"线索 {lead.person_name} → 客户 {customer.name}"
    )
    session.flush()
    return customer


def convert_many(
    session: Session,
    leads: list[Lead],
    *,
    by: User,
    owners: list[User] | None = None,
    with_opportunity: bool = False,
    at: datetime | None = None,
) -> list[Customer]:
    """Mass conversion; leads shared round-robin among the chosen clerks. All or nothing."""
    begin_write(session)
    owners = owners or []
    customers = []
    for index, lead in enumerate(leads):
        owner = owners[index % len(owners)] if owners else None
        draft = (
            OpportunityDraft(title=f"{lead.company or lead.person_name}商机")
            if with_opportunity
            else None
        )
        duplicates = duplicate_customers(session, lead)
        customers.append(
            convert_lead(
                session,
                lead,
                by=by,
                owner=owner,
                opportunity=draft,
                link_to=duplicates[0] if duplicates else None,
                at=at,
            )
        )
    return customers
