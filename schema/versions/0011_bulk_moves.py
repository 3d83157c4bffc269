"""Cheaper bulk ownership moves (issue #5): customer_standings' copies follow a customers
UPDATE once per statement on PostgreSQL; activities lose a redundant owner_id index

- PostgreSQL: the row trigger that copied division, owner and creation time into
  customer_standings ran one UPDATE per moved customer — about 7 s of the 264k returns of
  the first sweep over the 1M demo. A statement trigger now does it in one UPDATE … FROM
  the statement's transition table, writing only the standings whose copies differ
  (measured: the customers UPDATE 21.1 s -> 18.4 s). PostgreSQL does not allow a column
  list ("UPDATE OF") with transition tables, so it fires for every UPDATE of customers;
  for one edited customer that is one primary-key probe. SQLite keeps its row trigger.
- activities.owner_id: ix_activities_owner_state_planned starts with owner_id, so the
  single-column index served no query and cost an entry per cancelled or moved plan.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 20:00:00

"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION customers_standing_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_standings
    SET division_id = NEW.division_id, owner_id = NEW.owner_id, created_at = NEW.created_at
    WHERE customer_id = NEW.id;
    RETURN NULL;
END $$
"""

ROW_TRIGGER = """
CREATE TRIGGER customers_standing_move
AFTER UPDATE OF division_id, owner_id, created_at ON customers
FOR EACH ROW
WHEN (NEW.division_id IS DISTINCT FROM OLD.division_id
      OR NEW.owner_id IS DISTINCT FROM OLD.owner_id
      OR NEW.created_at IS DISTINCT FROM OLD.created_at)
EXECUTE FUNCTION customers_standing_move()
"""

STATEMENT_FUNCTION = """
CREATE OR REPLACE FUNCTION customers_standing_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_standings AS s
    SET division_id = moved.division_id, owner_id = moved.owner_id,
        created_at = moved.created_at
    FROM moved
    WHERE s.customer_id = moved.id
      AND (s.division_id IS DISTINCT FROM moved.division_id
           OR s.owner_id IS DISTINCT FROM moved.owner_id
           OR s.created_at IS DISTINCT FROM moved.created_at);
    RETURN NULL;
END $$
"""

STATEMENT_TRIGGER = """
CREATE TRIGGER customers_standing_move
AFTER UPDATE ON customers
REFERENCING NEW TABLE AS moved
FOR EACH STATEMENT EXECUTE FUNCTION customers_standing_move()
"""


def _replace_trigger(function: str, trigger: str) -> None:
    op.execute("DROP TRIGGER customers_standing_move ON customers")
    op.execute(function)
    op.execute(trigger)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _replace_trigger(STATEMENT_FUNCTION, STATEMENT_TRIGGER)
    op.drop_index("ix_activities_owner_id", table_name="activities")


def downgrade():
    op.create_index("ix_activities_owner_id", "activities", ["owner_id"])
    if op.get_bind().dialect.name == "postgresql":
        _replace_trigger(ROW_FUNCTION, ROW_TRIGGER)
