"""The Reflex app: pages, the mounted REST/WebSocket API, and the database migrated on start."""

from __future__ import annotations

import asyncio

import reflex as rx

from agentkit_app.api.app import build_api
from agentkit_app.service.runtime import get_service
from agentkit_app.ui.pages import admin as admin_page
from agentkit_app.ui.pages import chat as chat_pages


async def prepare_service() -> None:
    """Migrate the database and build the service before the first request."""
    await asyncio.to_thread(get_service)


app = rx.App(
    api_transformer=build_api(),
    stylesheets=["/styles.css"],
)
app.register_lifespan_task(prepare_service)
chat_pages.register(app)
admin_page.register(app)
