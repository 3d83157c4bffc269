"""customers: one covering index per composition dimension (issue #7, R-REPORT-2)

(division_id, <dimension>, owner_id, created_at) lets the composition report count a
division's customers and the period's new ones in one index-only pass per dimension; they
replace the single-column indexes on industry, source and region.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00

"""

from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DIMENSIONS = ("grade_id", "industry_id", "source_id", "region_code", "value_class")
REPLACED = ("industry_id", "source_id", "region_code")


def upgrade():
    for column in DIMENSIONS:
        op.create_index(
            f"ix_customers_by_{column}",
            "customers",
            ["division_id", column, "owner_id", "created_at"],
        )
    for column in REPLACED:
        op.drop_index(f"ix_customers_{column}", table_name="customers")


def downgrade():
    for column in REPLACED:
        op.create_index(f"ix_customers_{column}", "customers", [column])
    for column in DIMENSIONS:
        op.drop_index(f"ix_customers_by_{column}", table_name="customers")
