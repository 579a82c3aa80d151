"""The Reflex app: pages, the mounted REST/WebSocket API, security headers, and the database migrated on start."""

from __future__ import annotations

import reflex as rx
from reflex import constants
from reflex.utils.prerequisites import get_web_dir

from agentkit_app.api.app import build_api
from agentkit_app.api.headers import security_headers
from agentkit_app.service.runtime import prepare_service
from agentkit_app.ui.pages import admin as admin_page
from agentkit_app.ui.pages import chat as chat_pages
from agentkit_app.ui.pages import share as share_page
from agentkit_app.ui.pages import tokens as tokens_page

# The API is mounted first; the headers then wrap everything the server answers, the static
# pages of `reflex run --env prod` included (their inline scripts are read from this build).
app = rx.App(
    api_transformer=[build_api(), security_headers((get_web_dir() / constants.Dirs.STATIC).resolve())],
    stylesheets=["/styles.css"],
)
app.register_lifespan_task(prepare_service)
chat_pages.register(app)
admin_page.register(app)
tokens_page.register(app)
share_page.register(app)
