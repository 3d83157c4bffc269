"""The CRM records of REQUIREMENTS §3: customers and everything hanging off them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.accounts import Division, User
from portal.models.base import Base, BusinessRecord, Timestamps, max_len, one_of
from portal.models.lookups import (
    CompanyNature,
    EmployeeBand,
    FeedbackReason,
    Grade,
    Industry,
    LostReason,
    Region,
    RevenueBand,
    ServicePriority,
    ServiceType,
    Source,
    Stage,
)
from portal.models.standing import UNRATED, CustomerStanding

CUSTOMER_KINDS = ("company", "person")
CUSTOMER_STATUSES = ("intent", "following", "contract", "won", "failed")
VALUE_CLASSES = ("A", "B", "C")
LEAD_STATUSES = ("new", "following", "converted", "invalid")
ACTIVITY_KINDS = ("plan", "action", "task")
ACTIVITY_STATES = ("pending", "done", "cancelled")
SERVICE_STATUSES = ("new", "assigned", "handling", "responded", "archived")
SERVICE_CHANNELS = ("phone", "web", "social", "email")
SERVICE_DIRECTIONS = ("inbound", "outbound")
ORDER_STATES = ("valid", "cancelled")
GENDERS = ("male", "female", "unknown")
OWNERSHIP_KINDS = (
    "create",
    "claim",
    "assign",
    "release",
    "return",
    "handover",
    "transfer",
    "conflict",
    "convert",
)


def _standing_field(name: str) -> property:
    def read(customer: Customer):
        standing = customer.standing
        return UNRATED[name] if standing is None else getattr(standing, name)

    return property(read, doc=f"customer.standing.{name} (read-only)")


class Customer(BusinessRecord, Base):
    """客户: a company or a person; owner NULL means it sits in the pool (公海)."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("division_id", "name", name="uq_customers_division_name"),
        one_of("kind", CUSTOMER_KINDS),
        one_of("status", CUSTOMER_STATUSES),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 3", name="rating_range"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        max_len("name", 50),
        max_len("address", 200),
        max_len("remark", 500),
        CheckConstraint("postcode IS NULL OR length(postcode) = 6", name="postcode_len"),
        Index("ix_customers_division_owner_updated", "division_id", "owner_id", "updated_at"),
        Index("ix_customers_division_created", "division_id", "created_at"),
        Index("ix_customers_next_followup", "division_id", "next_followup_at"),
        Index("ix_customers_mobile", "mobile"),
        # Lists at a million customers (issue #4): each index gives one list its rows in
        # order within a division, carrying what the scope and the filter test.
        Index("ix_customers_list", "division_id", "pinned", "updated_at", "id", "owner_id"),
        Index(
            "ix_customers_pool",
            "division_id",
            "in_pool_since",
            "id",
            postgresql_where=text("owner_id IS NULL"),
            sqlite_where=text("owner_id IS NULL"),
        ),
        Index(
            "ix_customers_grade_industry",
            "division_id",
            "grade_id",
            "industry_id",
            "pinned",
            "updated_at",
            "id",
            "owner_id",
        ),
        # Composition report (R-REPORT-2, issue #7): one index-only pass per dimension
        # counts a division's customers and its new ones, the owner there for the scope and
        # the clerk filter. They also serve the list filters on these columns.
        *(
            Index(f"ix_customers_by_{column}", "division_id", column, "owner_id", "created_at")
            for column in ("grade_id", "industry_id", "source_id", "region_code")
        ),
        # Search candidates checked without reading the table rows (portal/search.py).
        Index(
            "ix_customers_search", "id", "division_id", "owner_id", "pinned", "updated_at", "name"
        ),
    )
    # No single-column division index: every list, report and scope index here starts
    # with division_id, and a two-value index is the costliest to maintain (the first
    # sweep's 264k pool returns: 26 s -> 21 s for the customers UPDATE on PostgreSQL).
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="company")
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("grades.id"))
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industries.id"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    nature_id: Mapped[int | None] = mapped_column(ForeignKey("company_natures.id"))
    revenue_band_id: Mapped[int | None] = mapped_column(ForeignKey("revenue_bands.id"))
    employee_band_id: Mapped[int | None] = mapped_column(ForeignKey("employee_bands.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(6))
    mobile: Mapped[str | None] = mapped_column(String(11))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(50))
    wechat: Mapped[str | None] = mapped_column(String(50))
    qq: Mapped[str | None] = mapped_column(String(20))
    weibo: Mapped[str | None] = mapped_column(String(50))
    remark: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="intent")
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    in_pool_since: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    previous_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_followup_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_followup_at: Mapped[datetime | None] = mapped_column(DateTime)

    division: Mapped[Division] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="Customer.owner_id")
    created_by: Mapped[User | None] = relationship(foreign_keys="Customer.created_by_id")
    previous_owner: Mapped[User | None] = relationship(foreign_keys=[previous_owner_id])
    grade: Mapped[Grade | None] = relationship()
    industry: Mapped[Industry | None] = relationship()
    source: Mapped[Source | None] = relationship()
    nature: Mapped[CompanyNature | None] = relationship()
    revenue_band: Mapped[RevenueBand | None] = relationship()
    employee_band: Mapped[EmployeeBand | None] = relationship()
    region: Mapped[Region | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )
    shares: Mapped[list[CustomerShare]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )
    # Value class and churn state (portal/models/standing.py): the row comes with the
    # customer from a database trigger, so the ORM only reads and updates it.
    standing: Mapped[CustomerStanding | None] = relationship(
        uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )

    def __str__(self) -> str:
        return self.name

    # Read-only views of the standing, for pages, exports and templates.
    value_class = _standing_field("value_class")
    value_amount_12m = _standing_field("value_amount_12m")
    churn_state = _standing_field("churn_state")
    churn_warned_at = _standing_field("churn_warned_at")
    churn_measure = _standing_field("churn_measure")
    churn_measure_on = _standing_field("churn_measure_on")
    churn_lost_reason = _standing_field("churn_lost_reason")
    churn_changed_at = _standing_field("churn_changed_at")

    @property
    def primary_contact(self) -> Contact | None:
        return next((c for c in self.contacts if c.is_primary), None)


class CustomerShare(Base):
    """资料共享人: a colleague who may see (or also edit) a customer, maybe until a date."""

    __tablename__ = "customer_shares"
    __table_args__ = (UniqueConstraint("customer_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    can_edit: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    until: Mapped[date | None] = mapped_column(Date)
    customer: Mapped[Customer] = relationship(back_populates="shares")
    user: Mapped[User] = relationship()


class Contact(BusinessRecord, Base):
    """联系人 of one customer; exactly one may be the primary (首要联系人)."""

    __tablename__ = "contacts"
    __table_args__ = (
        one_of("gender", GENDERS),
        max_len("name", 50),
        max_len("remark", 500),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        Index("ix_contacts_mobile", "mobile"),
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    salutation: Mapped[str | None] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(10), nullable=False, default="unknown")
    position: Mapped[str | None] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(11))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(50))
    qq: Mapped[str | None] = mapped_column(String(20))
    wechat: Mapped[str | None] = mapped_column(String(50))
    remark: Mapped[str | None] = mapped_column(String(500))
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")
    division: Mapped[Division] = relationship()

    # No owner column: a contact's owner is always its customer's (schema 0010). A copy had
    # to be rewritten on every claim, return and hand-over — 400k rows in a first sweep.
    owner_id = None

    @property
    def owner(self) -> User | None:
        return self.customer.owner if self.customer is not None else None

    def __str__(self) -> str:
        return self.name


class Campaign(BusinessRecord, Base):
    """市场活动: leads carry the campaign they came from (R-REPORT-7)."""

    __tablename__ = "campaigns"
    __table_args__ = (max_len("name", 100),)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    theme: Mapped[str | None] = mapped_column(String(200))
    target_group: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(50))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    actual_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    division: Mapped[Division] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="Campaign.owner_id")

    def __str__(self) -> str:
        return self.name


class Lead(BusinessRecord, Base):
    """线索: a not-yet-qualified prospect; reported at (报备时间) = created_at."""

    __tablename__ = "leads"
    __table_args__ = (
        one_of("status", LEAD_STATUSES),
        max_len("person_name", 50),
        max_len("remark", 500),
        CheckConstraint("length(trim(person_name)) > 0", name="person_name_not_blank"),
        Index("ix_leads_division_owner_created", "division_id", "owner_id", "created_at"),
        Index("ix_leads_mobile", "mobile"),
    )
    person_name: Mapped[str] = mapped_column(String(50), nullable=False)
    company: Mapped[str | None] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(11))
    email: Mapped[str | None] = mapped_column(String(50))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    referrer_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    introducer_name: Mapped[str | None] = mapped_column(String(50))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("grades.id"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    remark: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="new")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    converted_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_action_at: Mapped[datetime | None] = mapped_column(DateTime)
    stale_since: Mapped[datetime | None] = mapped_column(DateTime)  # R-FOLLOW-5 flag

    division: Mapped[Division] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="Lead.owner_id")
    source: Mapped[Source | None] = relationship()
    referrer_customer: Mapped[Customer | None] = relationship(foreign_keys=[referrer_customer_id])
    campaign: Mapped[Campaign | None] = relationship()
    grade: Mapped[Grade | None] = relationship()
    region: Mapped[Region | None] = relationship()
    customer: Mapped[Customer | None] = relationship(foreign_keys=[customer_id])

    def __str__(self) -> str:
        return f"{self.person_name}（{self.company}）" if self.company else self.person_name


class Opportunity(BusinessRecord, Base):
    """商机 / 销售机会 moving through the configurable stages."""

    __tablename__ = "opportunities"
    __table_args__ = (
        max_len("title", 100),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_positive"),
        CheckConstraint(
            "probability IS NULL OR probability BETWEEN 0 AND 100", name="probability_range"
        ),
        Index("ix_opportunities_division_owner", "division_id", "owner_id", "updated_at"),
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    expected_close: Mapped[date | None] = mapped_column(Date)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), nullable=False, index=True)
    probability: Mapped[int | None] = mapped_column(Integer)
    lost_reason_id: Mapped[int | None] = mapped_column(ForeignKey("lost_reasons.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    stage_entered_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_action_at: Mapped[datetime | None] = mapped_column(DateTime)
    stale_since: Mapped[datetime | None] = mapped_column(DateTime)  # R-FOLLOW-5 flag

    customer: Mapped[Customer] = relationship()
    stage: Mapped[Stage] = relationship()
    lost_reason: Mapped[LostReason | None] = relationship()
    division: Mapped[Division] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="Opportunity.owner_id")

    def __str__(self) -> str:
        return self.title


class StageChange(Base):
    """Stage history of an opportunity, for days-in-stage (R-REPORT-4)."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        # The pipeline report (R-REPORT-4) at a million customers: the changes of a period
        # by date, and an opportunity's path read from the index alone.
        Index(
            "ix_stage_changes_at",
            "at",
            "opportunity_id",
            "from_stage_id",
            "from_since",
            "reached_order",
        ),
        Index(
            "ix_stage_changes_path", "opportunity_id", "at", "id", "from_stage_id", "to_stage_id"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False
    )
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # When the opportunity entered the stage it leaves here (NULL on the first change):
    # the stay's length is at − from_since, without looking for the previous change.
    from_since: Mapped[datetime | None] = mapped_column(DateTime)
    # The furthest non-lost stage (its sort order) the opportunity had reached by this
    # change, this one included: never decreasing along its history, so the funnel of a
    # period reads only the period's changes (R-REPORT-4).
    reached_order: Mapped[int | None] = mapped_column(Integer)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Order(BusinessRecord, Base):
    """订单 / 合同: drives purchase follow-ups, value classes and churn."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("number"),
        one_of("state", ORDER_STATES),
        CheckConstraint("amount >= 0", name="amount_positive"),
        # Covering for the contribution report (R-REPORT-3): a period's orders summed
        # per customer, month or clerk from the index alone.
        Index(
            "ix_orders_division_signed",
            "division_id",
            "signed_on",
            "state",
            "owner_id",
            "customer_id",
            "amount",
        ),
        Index("ix_orders_customer_signed", "customer_id", "signed_on"),
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    number: Mapped[str] = mapped_column(String(30), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="valid")

    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    division: Mapped[Division] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="Order.owner_id")

    def __str__(self) -> str:
        return self.number


class Activity(BusinessRecord, Base):
    """行动 / 回访: follow-up plans, general actions and tasks in one table (R-FOLLOW).

    owner_id is the assignee (执行人); the subject is a customer, a lead or an opportunity.
    """

    __tablename__ = "activities"
    __table_args__ = (
        one_of("kind", ACTIVITY_KINDS),
        one_of("state", ACTIVITY_STATES),
        CheckConstraint(
            "customer_id IS NOT NULL OR lead_id IS NOT NULL OR opportunity_id IS NOT NULL",
            name="has_subject",
        ),
        max_len("subject", 100),
        max_len("result", 500),
        Index("ix_activities_owner_state_planned", "owner_id", "state", "planned_at"),
        Index("ix_activities_division_planned", "division_id", "planned_at"),
        # Partial: most activities are about a customer, so these columns are mostly NULL,
        # which SQLite's statistics count as one value of millions of rows; it then
        # scanned all activities for one opportunity's or lead's plans. Without the
        # NULLs the statistics are right (and the indexes smaller) on both databases.
        *(
            Index(
                f"ix_activities_{column}",
                column,
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("lead_id", "opportunity_id", "order_id")
        ),
        # The dashboard's overdue plans per clerk and escalation queue (R-FOLLOW-4, -6):
        # pending plans by date, and the few instructions not yet acknowledged. The
        # queries write 'pending' into the SQL (followups.PENDING) so SQLite uses it.
        Index(
            "ix_activities_pending",
            "division_id",
            "planned_at",
            "id",
            "owner_id",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index(
            "ix_activities_unacknowledged",
            "owner_id",
            "instruction_at",
            sqlite_where=text("instruction IS NOT NULL AND instruction_ack_at IS NULL"),
            postgresql_where=text("instruction IS NOT NULL AND instruction_ack_at IS NULL"),
        ),
    )
    # As in Customer: the composite indexes all start with division_id; and owner_id leads
    # ix_activities_owner_state_planned, so it needs no index of its own either (0011).
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="plan")
    subject: Mapped[str] = mapped_column(String(100), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    template_code: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    planned_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(String(500))
    feedback_reason_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_reasons.id"))
    feedback: Mapped[str | None] = mapped_column(String(500))
    instruction: Mapped[str | None] = mapped_column(String(500))
    instruction_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    instruction_at: Mapped[datetime | None] = mapped_column(DateTime)
    instruction_ack_at: Mapped[datetime | None] = mapped_column(DateTime)
    instruction_reply: Mapped[str | None] = mapped_column(String(500))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime)  # marked by the sweep
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)  # in the head's queue

    customer: Mapped[Customer | None] = relationship()
    lead: Mapped[Lead | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    order: Mapped[Order | None] = relationship()
    feedback_reason: Mapped[FeedbackReason | None] = relationship()
    instruction_by: Mapped[User | None] = relationship(foreign_keys=[instruction_by_id])
    division: Mapped[Division] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="Activity.owner_id")

    def __str__(self) -> str:
        return self.subject


class ServiceRequest(BusinessRecord, Base):
    """客户服务: 创建 → 分配 → 处理 → 反馈 → 归档 (R-SERVICE-1); owner is the creator's clerk."""

    __tablename__ = "service_requests"
    __table_args__ = (
        one_of("status", SERVICE_STATUSES),
        one_of("channel", SERVICE_CHANNELS),
        one_of("direction", SERVICE_DIRECTIONS),
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_range"
        ),
        max_len("summary", 200),
        Index("ix_service_requests_division_status", "division_id", "status", "created_at"),
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False, default="phone")
    direction: Mapped[str] = mapped_column(String(10), nullable=False, default="inbound")
    priority_id: Mapped[int] = mapped_column(ForeignKey("service_priorities.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="new")
    summary: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    handling_notes: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    handling_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    feedback_note: Mapped[str | None] = mapped_column(String(500))
    reopened_count: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    type: Mapped[ServiceType] = relationship()
    priority: Mapped[ServicePriority] = relationship()
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    division: Mapped[Division] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="ServiceRequest.owner_id")

    def __str__(self) -> str:
        return self.summary


class PoolRule(Timestamps, Base):
    """Customer-pool rules of a division, optionally per grade (R-POOL-1/2/5)."""

    __tablename__ = "pool_rules"
    __table_args__ = (UniqueConstraint("division_id", "grade_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), nullable=False)
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("grades.id"))
    max_held: Mapped[int] = mapped_column(Integer, nullable=False, default=200)
    count_deal_customers: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    max_per_claim: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    max_per_day: Mapped[int] = mapped_column(Integer, nullable=False, default=20)
    cooldown_days: Mapped[int] = mapped_column(Integer, nullable=False, default=7)
    return_no_followup_days: Mapped[int | None] = mapped_column(Integer, default=30)
    return_no_deal_days: Mapped[int | None] = mapped_column(Integer, default=90)
    exempt_with_deal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    exempt_open_opportunity: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    max_locked: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    warn_days: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    hidden_fields: Mapped[str] = mapped_column(
        String(200), nullable=False, default="mobile,phone,email"
    )
    division: Mapped[Division] = relationship()
    grade: Mapped[Grade | None] = relationship()


class OwnershipChange(Base):
    """Every change of a customer's owner: who, when, why (R-POOL-7)."""

    __tablename__ = "ownership_changes"
    __table_args__ = (one_of("kind", OWNERSHIP_KINDS),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    from_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    cap_overridden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class PoolCounter(Base):
    """Per-clerk claim counter, updated in the claiming transaction: the row lock makes
    caps hold under parallel claims (STACK-NOTES "Concurrency")."""

    __tablename__ = "pool_counters"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date | None] = mapped_column(Date)
    claimed_today: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ValueClassChange(Base):
    """History of a customer's value class A/B/C (R-VALUE-1)."""

    __tablename__ = "value_class_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    from_class: Mapped[str | None] = mapped_column(String(1))
    to_class: Mapped[str] = mapped_column(String(1), nullable=False)
    amount_12m: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
