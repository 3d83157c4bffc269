"""customers, activities: drop the single-column division_id indexes (issue #5)

Every list, report and scope index of these tables already starts with division_id, so
the single-column one served no query the composites do not, while costing the most to
maintain: two values over a million rows. The first sweep over the 1M demo returns 264k
customers to the pool; on PostgreSQL their UPDATE took 26.4 s with it, 20.7 s without.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 17:00:00

"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("customers", "activities")


def upgrade():
    for table in TABLES:
        op.drop_index(f"ix_{table}_division_id", table_name=table)


def downgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_division_id", table, ["division_id"])
