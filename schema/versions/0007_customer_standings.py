"""customer_standings: value class and churn state move out of customers (issue #5)

The sweep rewrites value class and churn state for up to every customer in a night; in
`customers` each write was a new row version in all 17 of its indexes (PostgreSQL: 105 s
for the first classes of a million customers). The new one-to-one table carries them
with copies of division, owner and creation time (for the reports' index passes), kept
by triggers on customers:

- after INSERT: the customer's row (no orders yet: class C, amount 0; churn state 'none');
- after UPDATE of division, owner or creation time: the copies.

SQLite drops a table's triggers with the table, so a later batch migration that
recreates `customers` must create them again (`create_triggers`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MOVED = [
    "value_class",
    "value_amount_12m",
    "churn_state",
    "churn_warned_at",
    "churn_measure",
    "churn_measure_on",
    "churn_lost_reason",
    "churn_changed_at",
]
COPIED = ["division_id", "owner_id", "created_at"]
# The report indexes: on customers before 0007, on customer_standings after.
REPORT_INDEXES = {
    "value": ["division_id", "value_class", "owner_id", "created_at"],
    "churn": ["division_id", "churn_state", "owner_id", "churn_warned_at", "churn_changed_at"],
}
NAMES = {
    "customers": {"value": "ix_customers_by_value_class", "churn": "ix_customers_churn"},
    "customer_standings": {
        "value": "ix_customer_standings_value",
        "churn": "ix_customer_standings_churn",
    },
}


def create_report_indexes(table):
    for kind, columns in REPORT_INDEXES.items():
        op.create_index(NAMES[table][kind], table, columns)


def drop_report_indexes(table):
    for kind in REPORT_INDEXES:
        op.drop_index(NAMES[table][kind], table_name=table)

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER customers_standing_insert AFTER INSERT ON customers
    BEGIN
        INSERT INTO customer_standings (customer_id, division_id, owner_id, created_at, churn_state)
        VALUES (NEW.id, NEW.division_id, NEW.owner_id, NEW.created_at, 'none');
    END
    """,
    """
    CREATE TRIGGER customers_standing_move
    AFTER UPDATE OF division_id, owner_id, created_at ON customers
    WHEN NEW.division_id IS NOT OLD.division_id OR NEW.owner_id IS NOT OLD.owner_id
         OR NEW.created_at IS NOT OLD.created_at
    BEGIN
        UPDATE customer_standings
        SET division_id = NEW.division_id, owner_id = NEW.owner_id, created_at = NEW.created_at
        WHERE customer_id = NEW.id;
    END
    """,
]

# PostgreSQL: inserts once per statement from its transition table (COPY of a million
# customers: one INSERT … SELECT), changes per row and only when a copied value differs.
POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION customers_standing_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO customer_standings (customer_id, division_id, owner_id, created_at, churn_state)
        SELECT id, division_id, owner_id, created_at, 'none' FROM inserted;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER customers_standing_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION customers_standing_insert()
    """,
    """
    CREATE FUNCTION customers_standing_move() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE customer_standings
        SET division_id = NEW.division_id, owner_id = NEW.owner_id, created_at = NEW.created_at
        WHERE customer_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER customers_standing_move
    AFTER UPDATE OF division_id, owner_id, created_at ON customers
    FOR EACH ROW
    WHEN (NEW.division_id IS DISTINCT FROM OLD.division_id
          OR NEW.owner_id IS DISTINCT FROM OLD.owner_id
          OR NEW.created_at IS DISTINCT FROM OLD.created_at)
    EXECUTE FUNCTION customers_standing_move()
    """,
]

DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS customers_standing_insert",
        "DROP TRIGGER IF EXISTS customers_standing_move",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS customers_standing_insert ON customers",
        "DROP TRIGGER IF EXISTS customers_standing_move ON customers",
        "DROP FUNCTION IF EXISTS customers_standing_insert()",
        "DROP FUNCTION IF EXISTS customers_standing_move()",
    ],
}


def create_triggers():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade():
    op.create_table(
        "customer_standings",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("division_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("value_class", sa.String(length=1), server_default="C", nullable=False),
        sa.Column(
            "value_amount_12m",
            sa.Numeric(precision=14, scale=2),
            server_default="0",
            nullable=False,
        ),
        sa.Column("churn_state", sa.String(length=10), server_default="none", nullable=False),
        sa.Column("churn_warned_at", sa.DateTime(), nullable=True),
        sa.Column("churn_measure", sa.String(length=500), nullable=True),
        sa.Column("churn_measure_on", sa.Date(), nullable=True),
        sa.Column("churn_lost_reason", sa.String(length=500), nullable=True),
        sa.Column("churn_changed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "churn_state IN ('none', 'warning', 'retained', 'lost')",
            name=op.f("ck_customer_standings_churn_state_enum"),
        ),
        sa.CheckConstraint(
            "value_class IN ('A', 'B', 'C')", name=op.f("ck_customer_standings_value_class_enum")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_standings_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_standings")),
    )
    # Never swept: no orders counted yet, so amount 0 and class C (R-VALUE-1).
    columns = ", ".join(
        ["id", *COPIED, "coalesce(value_class, 'C')", "coalesce(value_amount_12m, 0)", *MOVED[2:]]
    )
    op.execute(
        f"INSERT INTO customer_standings (customer_id, {', '.join(COPIED + MOVED)})"
        f" SELECT {columns} FROM customers ORDER BY id"
    )
    create_report_indexes("customer_standings")
    drop_report_indexes("customers")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_constraint(op.f("ck_customers_churn_state_enum"), type_="check")
        batch_op.drop_constraint(op.f("ck_customers_value_class_enum"), type_="check")
        for column in MOVED:
            batch_op.drop_column(column)
    create_triggers()


def downgrade():
    for statement in DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("value_class", sa.String(length=1), nullable=True))
        batch_op.add_column(
            sa.Column("churn_state", sa.String(length=10), server_default="none", nullable=False)
        )
        batch_op.add_column(sa.Column("churn_warned_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("churn_measure", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("churn_measure_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("churn_lost_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("churn_changed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("value_amount_12m", sa.Numeric(precision=14, scale=2), nullable=True)
        )
        batch_op.create_check_constraint(
            "churn_state_enum", "churn_state IN ('none', 'warning', 'retained', 'lost')"
        )
        batch_op.create_check_constraint(
            "value_class_enum", "value_class IS NULL OR value_class IN ('A', 'B', 'C')"
        )
    assignments = ", ".join(f"{c} = s.{c}" for c in MOVED)
    op.execute(
        f"UPDATE customers SET {assignments} FROM customer_standings AS s"
        " WHERE s.customer_id = customers.id"
    )
    create_report_indexes("customers")
    drop_report_indexes("customer_standings")
    op.drop_table("customer_standings")
