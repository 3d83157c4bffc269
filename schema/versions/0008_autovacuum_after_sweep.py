"""PostgreSQL: vacuum the big tables after a sweep's worth of changes, not after 20 % (issue #4, #5)

The nightly sweep changes about a tenth of the customers, their contacts and plans (pool
returns, overdue marks). PostgreSQL's default autovacuum waits for 20 % of a table; below
that the rewritten pages stay out of the visibility map, and the list pages' index-only
scans go back to the table for every entry on them: a clerk's page 1000 at a million
customers took 80 ms instead of 32 after one sweep. At 2 % autovacuum cleans up within a
minute of the sweep's commit (autovacuum_naptime). SQLite has no such state: nothing to do.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 16:00:00

"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("customers", "customer_standings", "contacts", "activities", "opportunities")
SETTINGS = "autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02"
RESET = "autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET ({SETTINGS})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET ({RESET})")
