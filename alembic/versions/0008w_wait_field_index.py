"""wait: index on (event_name, status, match_field) for the distinct-field lookup

Revision ID: 0008w
Revises: 0007r
Create Date: 2026-11-29 01:30:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0008w'
down_revision: Union[str, None] = '0007r'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('wait', schema=None) as batch_op:
        batch_op.create_index('ix_wait_event_field', ['event_name', 'status', 'match_field'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wait', schema=None) as batch_op:
        batch_op.drop_index('ix_wait_event_field')
