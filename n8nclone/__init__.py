"""n8nclone: a visual workflow builder whose runs are durable, checkpointed step functions."""

__version__ = "0.1.0"
