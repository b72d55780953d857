"""UI pages: one module per page, each exposing `ROUTE`, `TITLE` and `page()`."""
