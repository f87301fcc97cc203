"""automatic incidents

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:45:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('onset_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('detected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('first_public_update_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('published', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('detection', sa.JSON(), nullable=True))
        batch_op.create_index('ix_incidents_page_detected', ['page_id', 'detected_at'],
                              unique=False)

    # Incidents that existed before were public from their first update on.
    op.execute("UPDATE incidents SET first_public_update_at = created_at "
               "WHERE kind = 'incident'")

    op.create_table('page_detection',
    sa.Column('page_id', sa.String(length=32), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page_id')
    )


def downgrade() -> None:
    op.drop_table('page_detection')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_page_detected')
        batch_op.drop_column('detection')
        batch_op.drop_column('dismissed_at')
        batch_op.drop_column('published')
        batch_op.drop_column('first_public_update_at')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('detected_at')
        batch_op.drop_column('onset_at')
