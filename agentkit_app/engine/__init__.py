"""The engine: pure asyncio. It never imports reflex, fastapi, sqlmodel or redis."""
