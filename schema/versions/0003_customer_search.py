"""customer search: name n-gram index, list indexes for a million customers (issue #4)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _grams(name):
    """Frozen copy of portal.models.search.name_grams (a migration must not change later)."""
    text = (name or "").lower()
    last = len(text) - 1
    return {
        (ch, text[i + 1] if i < last else "") for i, ch in enumerate(text) if not ch.isspace()
    }


def upgrade():
    op.create_table(
        "customer_grams",
        sa.Column("lead", sa.String(length=1), nullable=False),
        sa.Column("follow", sa.String(length=1), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_grams_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead", "follow", "customer_id", name=op.f("pk_customer_grams")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("customer_grams", schema=None) as batch_op:
        batch_op.create_index("ix_customer_grams_customer_id", ["customer_id"], unique=False)

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_grade")
        batch_op.create_index(
            "ix_customers_list",
            ["division_id", "pinned", "updated_at", "id", "owner_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_pool",
            ["division_id", "in_pool_since", "id"],
            unique=False,
            postgresql_where=sa.text("owner_id IS NULL"),
            sqlite_where=sa.text("owner_id IS NULL"),
        )
        batch_op.create_index(
            "ix_customers_grade_industry",
            ["division_id", "grade_id", "industry_id", "pinned", "updated_at", "id", "owner_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_search",
            ["id", "division_id", "owner_id", "pinned", "updated_at", "name"],
            unique=False,
        )

    # Index the names already there.
    bind = op.get_bind()
    grams = sa.table(
        "customer_grams", sa.column("lead"), sa.column("follow"), sa.column("customer_id")
    )
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, name FROM customers WHERE id > :last ORDER BY id LIMIT 5000"),
            {"last": last_id},
        ).all()
        if not rows:
            break
        values = [
            {"lead": lead, "follow": follow, "customer_id": customer_id}
            for customer_id, name in rows
            for lead, follow in _grams(name)
        ]
        if values:
            bind.execute(grams.insert(), values)
        last_id = rows[-1][0]


def downgrade():
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_search")
        batch_op.drop_index("ix_customers_grade_industry")
        batch_op.drop_index("ix_customers_pool")
        batch_op.drop_index("ix_customers_list")
        batch_op.create_index("ix_customers_grade", ["division_id", "grade_id"], unique=False)
    with op.batch_alter_table("customer_grams", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_grams_customer_id")
    op.drop_table("customer_grams")
