"""The workflow editor's draft as plain data: pure functions, no Reflex state."""
