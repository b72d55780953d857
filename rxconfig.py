"""Reflex configuration for the n8nclone web UI.

The database is ours (SQLModel engine in `n8nclone.store`, migrations in the
top-level `alembic/`), so no `db_url` is set here: Reflex then never creates a
database, never reads `alembic.ini` and never touches `alembic/`.
Start the app with `n8nclone up` (see `n8nclone.web`), not `reflex run`.
"""

import reflex as rx

config = rx.Config(
    app_name="n8nclone",
    app_module_import="n8nclone.ui.app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
