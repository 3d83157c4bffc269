"""Reports and details pages at a million customers (issues #4, #7)

- activities: the lead, opportunity and order indexes leave out NULLs. Most activities
  are about a customer, so these columns are mostly NULL; SQLite's statistics counted
  the NULLs as one value of millions of rows and the planner then scanned every
  activity for one opportunity's or lead's plans. Partial indexes give both databases
  the right statistics.
- stage_changes.from_since: when the opportunity entered the stage it leaves (filled
  from the previous change, else the opportunity's creation), so days in stage is
  at − from_since; stage_changes.reached_order: the furthest non-lost stage reached by
  then (a running maximum), so the funnel reads only the period's changes; indexed by
  date and by each opportunity's path, replacing the plain opportunity index.
- activities: partial indexes of pending plans (division, planned at, id, owner) and of
  unacknowledged instructions, for the dashboard's overdue and escalation figures.
- customers: (division, churn state, owner, warned at, changed at) for the churn report.
- orders: the (division, signed on) index also carries state, owner, customer and
  amount, so the contribution report reads it alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ACTIVITY_COLUMNS = ("lead_id", "opportunity_id", "order_id")
ORDER_COLUMNS = ["division_id", "signed_on", "state", "owner_id", "customer_id", "amount"]
CHURN_COLUMNS = ["division_id", "churn_state", "owner_id", "churn_warned_at", "churn_changed_at"]

# The stay before each change began at the previous change (by time, then id), or at
# the opportunity's creation. UPDATE … FROM: PostgreSQL, and SQLite since 3.33.
FILL_FROM_SINCE = """
UPDATE stage_changes SET from_since = stays.began
FROM (
    SELECT sc.id AS id,
           coalesce(lag(sc.at) OVER (PARTITION BY sc.opportunity_id ORDER BY sc.at, sc.id),
                    o.created_at) AS began
    FROM stage_changes sc JOIN opportunities o ON o.id = sc.opportunity_id
) AS stays
WHERE stays.id = stage_changes.id AND stage_changes.from_stage_id IS NOT NULL
"""


PENDING = "state = 'pending'"
UNACKNOWLEDGED = "instruction IS NOT NULL AND instruction_ack_at IS NULL"


# The furthest non-lost stage (sort order) of the change and all before it (time, id).
FILL_REACHED_ORDER = """
UPDATE stage_changes SET reached_order = runs.reached
FROM (
    SELECT sc.id AS id,
           max(CASE WHEN coalesce(fs.sort_order, -1) > coalesce(ts.sort_order, -1)
                    THEN fs.sort_order ELSE ts.sort_order END)
               OVER (PARTITION BY sc.opportunity_id ORDER BY sc.at, sc.id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS reached
    FROM stage_changes sc
    LEFT JOIN stages ts ON ts.id = sc.to_stage_id AND ts.outcome != 'lost'
    LEFT JOIN stages fs ON fs.id = sc.from_stage_id AND fs.outcome != 'lost'
) AS runs
WHERE runs.id = stage_changes.id
"""


def upgrade():
    op.create_index(
        "ix_activities_pending",
        "activities",
        ["division_id", "planned_at", "id", "owner_id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.create_index(
        "ix_activities_unacknowledged",
        "activities",
        ["owner_id", "instruction_at"],
        sqlite_where=sa.text(UNACKNOWLEDGED),
        postgresql_where=sa.text(UNACKNOWLEDGED),
    )
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reached_order", sa.Integer(), nullable=True))
    op.execute(FILL_FROM_SINCE)
    op.execute(FILL_REACHED_ORDER)
    op.create_index(
        "ix_stage_changes_at",
        "stage_changes",
        ["at", "opportunity_id", "from_stage_id", "from_since", "reached_order"],
    )
    op.create_index(
        "ix_stage_changes_path",
        "stage_changes",
        ["opportunity_id", "at", "id", "from_stage_id", "to_stage_id"],
    )
    op.drop_index("ix_stage_changes_opportunity_id", table_name="stage_changes")
    op.drop_index("ix_orders_division_signed", table_name="orders")
    op.create_index("ix_orders_division_signed", "orders", ORDER_COLUMNS)
    op.create_index("ix_customers_churn", "customers", CHURN_COLUMNS)
    for column in ACTIVITY_COLUMNS:
        op.drop_index(f"ix_activities_{column}", table_name="activities")
        op.create_index(
            f"ix_activities_{column}",
            "activities",
            [column],
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade():
    op.drop_index("ix_activities_unacknowledged", table_name="activities")
    op.drop_index("ix_activities_pending", table_name="activities")
    for column in ACTIVITY_COLUMNS:
        op.drop_index(f"ix_activities_{column}", table_name="activities")
        op.create_index(f"ix_activities_{column}", "activities", [column])
    op.drop_index("ix_customers_churn", table_name="customers")
    op.drop_index("ix_orders_division_signed", table_name="orders")
    op.create_index("ix_orders_division_signed", "orders", ["division_id", "signed_on"])
    op.create_index("ix_stage_changes_opportunity_id", "stage_changes", ["opportunity_id"])
    op.drop_index("ix_stage_changes_path", table_name="stage_changes")
    op.drop_index("ix_stage_changes_at", table_name="stage_changes")
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_column("reached_order")
        batch_op.drop_column("from_since")
