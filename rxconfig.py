"""Reflex configuration: reads the app's settings and nothing else."""

import os

import reflex as rx
from reflex_base.constants import StateManagerMode

from agentkit_app.settings import get_settings, reflex_environment

_settings = get_settings()

# Plain `reflex run` finds the bun that scripts/setup.sh installed from the npm registry.
for _name, _value in reflex_environment().items():
    os.environ.setdefault(_name, _value)

if _settings.redis_url:
    # A streaming tab changes its UI state every 50 ms. Reflex's opportunistic lock keeps a tab's state in
    # the worker that serves it between changes and writes it to Redis when another worker asks for it
    # or after the hold time, instead of a lock, a read and a pickled write of the whole conversation
    # per change (2.5x the backend's CPU for an answer in a 50-turn conversation without it).
    os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")
    os.environ.setdefault("REFLEX_OPLOCK_HOLD_TIME", "2s")

config = rx.Config(
    app_name="agentkit_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_settings.port,
    backend_port=_settings.port,
    # with Redis, Reflex keeps the UI state there and runs several workers: any of them serves any tab
    redis_url=_settings.redis_url or None,
    # without Redis there is one worker, and its UI state lives in memory: a tab that reconnects after a
    # restart rebuilds it from the database. (Reflex's default, the disk, pickled every touched state
    # every two seconds: a fifth of the event loop with 25 tabs streaming.)
    state_manager_mode=StateManagerMode.REDIS if _settings.redis_url else StateManagerMode.MEMORY,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="large"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
