"""Reusable UI components (functions returning `rx.Component`)."""
