"""activities: the lead, opportunity and order indexes leave out NULLs; stage changes
indexed for the pipeline report (issue #4, #7)

Most activities are about a customer, so these columns are mostly NULL; SQLite's
statistics counted the NULLs as one value of millions of rows and the planner then
scanned every activity for one opportunity's or lead's plans. Partial indexes
(`WHERE … IS NOT NULL`) give both databases the right statistics.
Stage changes: by date (the period's moving opportunities) and a covering index of each
opportunity's path (funnel and days in stage), replacing the plain opportunity index.
Customers: (division, churn state, owner, warned at, changed at) for the churn report.
Orders: the (division, signed on) index also carries state, owner, customer and amount,
so the contribution report reads it alone.

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

COLUMNS = ("lead_id", "opportunity_id", "order_id")


ORDER_COLUMNS = ["division_id", "signed_on", "state", "owner_id", "customer_id", "amount"]


def upgrade():
    op.drop_index("ix_orders_division_signed", table_name="orders")
    op.create_index("ix_orders_division_signed", "orders", ORDER_COLUMNS)
    op.create_index(
        "ix_customers_churn",
        "customers",
        ["division_id", "churn_state", "owner_id", "churn_warned_at", "churn_changed_at"],
    )
    op.create_index("ix_stage_changes_at", "stage_changes", ["at", "opportunity_id"])
    op.create_index(
        "ix_stage_changes_path",
        "stage_changes",
        ["opportunity_id", "at", "id", "from_stage_id", "to_stage_id"],
    )
    op.drop_index("ix_stage_changes_opportunity_id", table_name="stage_changes")
    for column in COLUMNS:
        op.drop_index(f"ix_activities_{column}", table_name="activities")
        op.create_index(
            f"ix_activities_{column}",
            "activities",
            [column],
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade():
    op.drop_index("ix_orders_division_signed", table_name="orders")
    op.create_index("ix_orders_division_signed", "orders", ["division_id", "signed_on"])
    op.drop_index("ix_customers_churn", table_name="customers")
    op.create_index("ix_stage_changes_opportunity_id", "stage_changes", ["opportunity_id"])
    op.drop_index("ix_stage_changes_path", table_name="stage_changes")
    op.drop_index("ix_stage_changes_at", table_name="stage_changes")
    for column in COLUMNS:
        op.drop_index(f"ix_activities_{column}", table_name="activities")
        op.create_index(f"ix_activities_{column}", "activities", [column])
