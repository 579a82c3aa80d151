"""Builds the process-wide service from the settings (migrating the database first)."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import threading

from agentkit_app.engine.i18n import t
from agentkit_app.engine.llm.base import ChatModel
from agentkit_app.engine.llm.demo import DEMO_MODEL_NAME, DemoModel
from agentkit_app.engine.llm.fallback import FallbackModel
from agentkit_app.engine.llm.openai_compat import OpenAICompatibleModel
from agentkit_app.engine.llm.retry import RetryPolicy
from agentkit_app.engine.ports import CheckpointStore, MemoryCheckpointStore
from agentkit_app.engine.tools import ToolContext
from agentkit_app.engine.tools.sandbox import ShellSandbox
from agentkit_app.service.access import AccessControl
from agentkit_app.service.catalog import load_catalog
from agentkit_app.service.chat import ChatService
from agentkit_app.service.observe import sandbox_stopped
from agentkit_app.service.redis_runs import RedisRuns
from agentkit_app.service.runs import RunRegistry
from agentkit_app.service.throttle import SignInThrottle
from agentkit_app.service.turns import ServiceConfig
from agentkit_app.service.uploads import UploadStore
from agentkit_app.settings import (
    ConfigurationError,
    Settings,
    effective_configuration,
    get_settings,
    refuse_contradictions,
)
from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.checkpoint import RedisCheckpointStore
from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.sessions import SessionManager

log = logging.getLogger(__name__)
_lock = threading.Lock()
_heap_frozen = False  # see freeze_startup_heap
_service: ChatService | None = None


def build_llm(settings: Settings) -> ChatModel:
    """Return the model chain: the configured endpoint with its fallbacks, or the offline demo model."""
    if not settings.llm_configured:
        return DemoModel()
    retry = RetryPolicy(max_retries=settings.llm_max_retries, budget_s=settings.llm_timeout_s)
    main = OpenAICompatibleModel(
        base_url=str(settings.llm_base_url),
        api_key=settings.llm_api_key,
        default_model=settings.llm_model,
        timeout_s=settings.llm_timeout_s,
        retry=retry,
    )
    if not settings.fallback_enabled:
        return main
    recovery = (
        OpenAICompatibleModel(
            base_url=str(settings.llm_base_url),
            api_key=settings.llm_api_key,
            default_model=settings.llm_recovery_model,
            timeout_s=settings.llm_timeout_s,
            label="recovery",
            retry=retry,
        )
        if settings.llm_recovery_model
        else None
    )
    return FallbackModel(main, recovery, t("emergency_answer"))


def build_checkpoints(settings: Settings) -> CheckpointStore:
    """Return the Redis checkpoint store, or an in-process one without a Redis URL."""
    if settings.redis_url:
        return RedisCheckpointStore(
            settings.redis_url, settings.redis_key_prefix, settings.team_checkpoint_ttl_s
        )
    return MemoryCheckpointStore()


def build_runs(settings: Settings) -> RunRegistry:
    """Return where runs in flight are kept: Redis (every process sees every run), or this process."""
    if settings.redis_url:
        return RedisRuns(settings.redis_url, settings.redis_key_prefix, settings.run_lease_s)
    return RunRegistry()


def build_sandbox(settings: Settings) -> ShellSandbox | None:
    """Return the sandbox the shell tool runs commands in, or None (and a warning) where none can start."""
    sandbox = ShellSandbox(
        memory_mb=settings.shell_memory_mb,
        max_processes=settings.shell_max_processes,
        max_output_bytes=settings.shell_max_output_bytes,
        max_file_mb=settings.shell_max_file_mb,
        on_stop=sandbox_stopped,
    )
    problem = sandbox.problem()
    if problem is not None:
        log.warning("the shell tool is off: %s", problem)
        return None
    return sandbox


def build_access(settings: Settings, accounts: AccountStore) -> AccessControl:
    """Return the access control from the settings; with accounts on, create the first admin if none exists.

    Accounts on without ``AGENTKIT_JWT_SECRET``: a random secret is used and a warning logged,
    because tokens then die with a restart and are not valid in other worker processes.

    Raises:
        ConfigurationError: accounts are on, the database has no admin and no admin password is set:
            nobody could ever administer the deployment.
    """
    if settings.auth_enabled and not settings.admin_password and not accounts.has_admin_now():
        raise ConfigurationError(
            "AGENTKIT_AUTH_ENABLED is true but the database has no admin and AGENTKIT_ADMIN_PASSWORD is "
            "unset, so nobody could sign in to administer it: set AGENTKIT_ADMIN_PASSWORD (and "
            "AGENTKIT_ADMIN_USERNAME) for the first start, or set AGENTKIT_AUTH_ENABLED=false"
        )
    secret = settings.jwt_secret
    if settings.auth_enabled and not secret:
        log.warning(
            "AGENTKIT_JWT_SECRET is unset: using a random secret, so sign-in tokens die with a restart "
            "and are not valid in other worker processes"
        )
    elif settings.auth_enabled and secret and len(secret.encode()) < 32:
        log.warning("AGENTKIT_JWT_SECRET is shorter than 32 bytes: use a longer random secret")
    access = AccessControl(
        accounts,
        enabled=settings.auth_enabled,
        jwt_secret=secret or secrets.token_urlsafe(48),
        token_ttl_s=settings.token_ttl_s,
        api_key=settings.api_key,
        throttle=SignInThrottle.for_deployment(
            settings.redis_url,
            settings.redis_key_prefix,
            per_username=settings.signin_limit_per_username,
            per_address=settings.signin_limit_per_address,
        ),
    )
    access.bootstrap_admin(settings.admin_username, settings.admin_password)
    return access


def log_configuration(settings: Settings) -> None:
    """Log every setting in force at INFO, secrets masked (text: one setting a line; JSON: the ``config`` field)."""
    log.info("effective configuration", extra={"config": effective_configuration(settings)})


def build_service(settings: Settings) -> ChatService:
    """Return a service wired from the settings, with the database migrated; log the configuration in force.

    Raises:
        ConfigurationError: the settings contradict each other (the message says which and what to do).
    """
    refuse_contradictions(settings)
    log_configuration(settings)
    run_migrations(settings.database_url)
    llm = build_llm(settings)
    models = (settings.llm_models or [settings.llm_model]) if settings.llm_configured else [DEMO_MODEL_NAME]
    engine = make_engine(settings.database_url)
    service = ChatService(
        store=SessionManager(engine),
        catalog=load_catalog(),
        llm=llm,
        config=ServiceConfig(
            tool_context=ToolContext(
                settings.upload_dir,
                settings.scratch_dir,
                settings.shell_timeout_s,
                sandbox=build_sandbox(settings),
            ),
            max_content_chars=settings.max_content_chars,
            confirmation_timeout_s=settings.confirmation_timeout_s,
            board_max_rounds=settings.board_max_rounds,
            models=models,
            model_label=llm.label,
            plan_exec_enabled=settings.plan_exec_enabled,
            plan_exec_policy=settings.plan_exec_policy,
        ),
        checkpoints=build_checkpoints(settings),
        uploads=UploadStore(settings.upload_dir, settings.upload_max_bytes),
        access=build_access(settings, AccountStore(engine)),
        runs=build_runs(settings),
    )
    service.seed_catalog_now()
    return service


def service_built() -> bool:
    """Whether the process-wide service exists yet (building it runs migrations, which block)."""
    return _service is not None


def get_service() -> ChatService:
    """Return the process-wide service, built on first use."""
    global _service
    with _lock:
        if _service is None:
            _service = build_service(get_settings())
        return _service


async def prepare_service() -> None:
    """Build the process-wide service (migrations, catalog) before the server answers; then settle the heap.

    Called by the server's start (the bare API's lifespan, or the Reflex app's lifespan task).
    """
    await asyncio.to_thread(get_service)
    freeze_startup_heap()


def freeze_startup_heap() -> None:
    """Exempt what starting made (modules, the app, the service) from the garbage collector's full passes; once a process.

    A full pass of Python's cyclic collector walks every object it tracks. With the start-up heap of
    Reflex, SQLAlchemy and pydantic in it, a pass took 70-170 ms: every stream of the process stopped
    that long, two or three times during 100 simultaneous answers (``bench.streaming``). Frozen
    objects are still freed when their last reference goes; only a reference cycle among them would
    never be collected, and start-up objects live as long as the process anyway.
    """
    global _heap_frozen
    if _heap_frozen:
        return
    _heap_frozen = True
    gc.collect()
    gc.freeze()
