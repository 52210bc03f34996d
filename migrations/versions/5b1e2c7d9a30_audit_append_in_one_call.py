"""audit trail: append an entry in one call on PostgreSQL

Revision ID: 5b1e2c7d9a30
Revises: 04bff97cff3e
Create Date: 2026-11-21 22:30:00

The function takes the trail's advisory lock, reads the last hash, numbers the entry, hashes
it and inserts it: one round trip under the lock instead of four (certify/audit/chain.py).
Each statement of a VOLATILE PL/pgSQL function takes a fresh snapshot under READ COMMITTED,
so the read after the lock sees every entry committed before the lock was granted.
"""

from alembic import op

revision = "5b1e2c7d9a30"
down_revision = "04bff97cff3e"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION certify_audit_append(
    p_lock bigint, p_genesis text, p_template text, p_id_token text, p_prev_token text,
    p_occurred_at timestamptz, p_actor_id integer, p_actor_username text, p_action text,
    p_subject_type text, p_subject_id text, p_before json, p_after json)
RETURNS TABLE (new_id integer, new_prev_hash text, new_hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id integer;
    v_prev text;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT e.hash INTO v_prev FROM audit_events e ORDER BY e.id DESC LIMIT 1;
    v_prev := coalesce(v_prev, p_genesis);
    v_id := nextval(pg_get_serial_sequence('audit_events', 'id'));
    new_id := v_id;
    new_prev_hash := v_prev;
    new_hash := encode(sha256(convert_to(
        replace(replace(p_template, '"' || p_id_token || '"', v_id::text), p_prev_token, v_prev),
        'UTF8')), 'hex');
    INSERT INTO audit_events (id, occurred_at, actor_id, actor_username, action, subject_type,
                              subject_id, before, after, prev_hash, hash)
    VALUES (v_id, p_occurred_at, p_actor_id, p_actor_username, p_action, p_subject_type,
            p_subject_id, p_before, p_after, v_prev, new_hash);
    RETURN NEXT;
END
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS certify_audit_append(bigint, text, text, text, text, "
            "timestamptz, integer, text, text, text, text, json, json)"
        )
