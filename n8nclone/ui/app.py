"""The Reflex app: UI pages plus our FastAPI routes (/api, /webhook, /e) on one ASGI app.

Importing this module must stay cheap and side-effect free: the server's
supervisor imports it before forking workers. Background work starts in the
lifespan task, inside the worker.
"""

from __future__ import annotations

import reflex as rx

from n8nclone.api.app import build_api
from n8nclone.runtime import background_services
from n8nclone.ui.pages import (
    editor,
    events,
    index,
    login,
    run_detail,
    runs,
    setup,
    workflows,
)
from n8nclone.ui.state.auth import SessionGate, with_login

PAGES = (index, login, setup, workflows, editor, runs, run_detail, events)


def create_app() -> rx.App:
    """Build the Reflex app with our API mounted in front of Reflex's own routes."""
    reflex_app = rx.App(api_transformer=build_api())
    reflex_app.register_lifespan_task(background_services)
    reflex_app.add_middleware(SessionGate())
    for module in PAGES:
        reflex_app.add_page(module.page, route=module.ROUTE, title=module.TITLE,
                            on_load=with_login(module.ROUTE, getattr(module, "ON_LOAD", None)))
    return reflex_app


app = create_app()
