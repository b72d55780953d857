"""UI state: one module per page (shared state, when it comes, in its own module)."""
