"""The Reflex web UI."""
