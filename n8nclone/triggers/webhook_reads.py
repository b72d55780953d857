"""What a waiting webhook reads from the database: has the run ended, has its
`webhook.respond` step succeeded. The fallback (and the race check) beside the engine's
news, so an answer is found whichever process executes the run."""

from __future__ import annotations

from sqlalchemy import select

from n8nclone.engine.run_waiters import TERMINAL_STATUSES, RunNews
from n8nclone.store.db import Database
from n8nclone.store.models import Run, Step

RUN = Run.__table__
STEP = Step.__table__
RESPOND_TYPE = "webhook.respond"


def read_news(db: Database, run_id: str, *, respond_step: bool) -> RunNews | None:
    """The first succeeded `webhook.respond` step (when `respond_step`), else the run's end;
    None while neither has happened."""
    with db.read() as conn:
        if respond_step:
            output = conn.execute(
                select(STEP.c.output).where(STEP.c.run_id == run_id,
                                            STEP.c.node_type == RESPOND_TYPE,
                                            STEP.c.status == "succeeded")
                .order_by(STEP.c.ended_at, STEP.c.id).limit(1)).first()
            if output is not None:
                return RunNews("step", output=output[0])
        row = conn.execute(select(RUN.c.status, RUN.c.output, RUN.c.error)
                           .where(RUN.c.id == run_id)).first()
    if row is None:  # deleted meanwhile (with its workflow)
        return RunNews("ended", status="cancelled", error={"message": "the run was deleted"})
    if row.status not in TERMINAL_STATUSES:
        return None
    return RunNews("ended", status=row.status, output=row.output, error=row.error)
