"""UI pages: one module per page, each exposing `ROUTE`, `TITLE` and `page()`
(optionally `ON_LOAD`: the event handler run when the page opens)."""
