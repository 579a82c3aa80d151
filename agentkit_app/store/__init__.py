"""The store: SQLModel tables, the session manager, Redis checkpoints (implements engine.ports)."""
