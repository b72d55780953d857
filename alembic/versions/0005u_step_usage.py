"""step usage: model, tokens, cost and latency of metered calls (LLMs)

Revision ID: 0005u
Revises: 0004c
Create Date: 2026-11-29 00:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0005u'
down_revision: Union[str, None] = '0004c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('prompt_tokens', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('completion_tokens', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('total_tokens', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cost_usd', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('latency_ms', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('step', schema=None) as batch_op:
        for column in ('latency_ms', 'cost_usd', 'total_tokens', 'completion_tokens',
                       'prompt_tokens', 'model'):
            batch_op.drop_column(column)
