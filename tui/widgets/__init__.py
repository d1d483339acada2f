"""Reusable widgets of the app (they render results handed down; they never call the engine)."""
