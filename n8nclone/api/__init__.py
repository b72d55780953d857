"""The JSON HTTP API (FastAPI), mounted into the Reflex app through `api_transformer`."""
