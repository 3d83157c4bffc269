"""contacts: drop owner_id — a contact's owner is its customer's (issue #5)

The column was a copy of customers.owner_id that every ownership change had to rewrite:
claims, assignments, hand-overs and the sweep's returns to the pool (397k contacts,
5.8-8.4 s on PostgreSQL, in the first sweep over the 1M demo). No scope rule read it —
a clerk sees contacts through their customer — and the contact list's owner column and
filter now read the customer's.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_owner_id")
        batch.drop_constraint("fk_contacts_owner_id_users", type_="foreignkey")
        batch.drop_column("owner_id")


def downgrade():
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_contacts_owner_id_users", "users", ["owner_id"], ["id"])
        batch.create_index("ix_contacts_owner_id", ["owner_id"])
    op.execute(
        "UPDATE contacts SET owner_id = "
        "(SELECT owner_id FROM customers WHERE customers.id = contacts.customer_id)"
    )
