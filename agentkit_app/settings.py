"""Deployment settings: the only reader of environment variables (prefix ``AGENTKIT_``)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
# settings whose values are never shown (the effective configuration masks them)
SECRET_SETTINGS = frozenset({"llm_api_key", "api_key", "jwt_secret", "admin_password"})
# settings holding a URL whose password is masked
URL_SETTINGS = frozenset({"database_url", "redis_url", "llm_base_url"})
MASK = "***"


class ConfigurationError(ValueError):
    """Settings that contradict each other: the app refuses to start; the message names them and the fix."""


class Settings(BaseSettings):
    """Everything a deployment may change, read from ``AGENTKIT_*`` variables or ``.env``."""

    model_config = SettingsConfigDict(env_prefix="AGENTKIT_", env_file=".env", extra="ignore")

    port: int = Field(default=3000, description="the port serving UI and API (scripts/run.sh)")
    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'data' / 'agentkit.db'}",
        description="SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/db; SQLite by default",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for runs, team checkpoints and shared throttles, e.g. redis://127.0.0.1:6379/0; "
        "set: several processes may serve the app (runs are followed and steered through Redis)",
    )
    redis_key_prefix: str = Field(default="agentkit", description="prefix of every Redis key")
    run_lease_s: float = Field(
        default=10.0,
        gt=0.5,
        description="with Redis: a run whose process has not renewed its lease for this long is "
        "marked interrupted by another process",
    )

    llm_base_url: str | None = Field(
        default=None,
        description="an OpenAI-compatible API root, e.g. https://api.openai.com/v1; unset: offline demo model",
    )
    llm_api_key: str = Field(default="not-needed", description="the endpoint's API key (secret)")
    llm_model: str = Field(default="gpt-4o-mini", description="the main model")
    llm_models: list[str] = Field(
        default_factory=list, description='models users may pick, as JSON: ["gpt-4o-mini", "gpt-4o"]'
    )
    llm_recovery_model: str | None = Field(
        default=None, description="the model that answers when the main one fails"
    )
    llm_timeout_s: float = Field(
        default=60.0,
        description="seconds to connect and for each wait on the stream; also the budget of a call's retries",
    )
    llm_max_retries: int = Field(
        default=2,
        ge=0,
        description="further tries of a call that failed before answering (connection error, 408, 429, 5xx)",
    )
    fallback_enabled: bool = Field(
        default=True, description="fall back to the recovery model, then to an apology"
    )

    api_key: str | None = Field(
        default=None, description="the deployment's API key for REST and WebSocket clients (secret)"
    )

    auth_enabled: bool = Field(
        default=False,
        description="user accounts, departments and quotas; off: no sign-in, everyone sees every session",
    )
    jwt_secret: str | None = Field(
        default=None,
        description="signs sign-in tokens (secret); unset with accounts on: one per process, tokens die on restart",
    )
    token_ttl_s: int = Field(default=12 * 3600, description="how long a sign-in lasts")
    admin_username: str = Field(
        default="admin", description="the admin created on start when accounts are on and none exists"
    )
    admin_password: str | None = Field(
        default=None, description="that admin's password (secret); unset: no admin is created"
    )
    signin_limit_per_username: str = Field(
        default="5/minute", description="failed sign-ins allowed per user name"
    )
    signin_limit_per_address: str = Field(
        default="5/minute", description="failed sign-ins allowed per client address"
    )

    upload_dir: Path = Field(default=ROOT / "data" / "uploads", description="where uploaded files are kept")
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, description="the largest upload")
    scratch_dir: Path = Field(
        default=ROOT / "data" / "scratch",
        description="one scratch directory per session below it: the shell's working dir",
    )
    # The shell tool runs each command in a bubblewrap sandbox within these limits; where no sandbox
    # can start (no bwrap, user namespaces disabled), there is no shell tool at all.
    shell_timeout_s: float = Field(default=20.0, description="the longest a shell command may run")
    shell_memory_mb: int = Field(default=1024, description="address space of each shell process")
    shell_max_processes: int = Field(
        default=64, description="processes and threads a shell command may have at once"
    )
    shell_max_output_bytes: int = Field(default=64_000, description="more output than this stops the command")
    shell_max_file_mb: int = Field(
        default=64, description="the largest file a command may write; also the size of its /tmp"
    )
    confirmation_timeout_s: float = Field(
        default=300.0, description="how long a dangerous tool call waits for approval"
    )
    max_content_chars: int = Field(default=32_000, description="the longest message a user may send")

    board_max_rounds: int = Field(default=5, description="the most rounds a @board meeting may run")
    team_checkpoint_ttl_s: int = Field(
        default=7 * 24 * 3600, description="how long an interrupted @team run can be resumed"
    )
    plan_exec_enabled: bool = Field(default=True, description="offer the plan-execute mode")
    # Kept as given: a bad policy fails the turn, not the startup.
    plan_exec_policy: Any = Field(
        default=None,
        description='plan-execute phases as JSON, e.g. [{"name": "plan", "tools": []}, {"name": "execute", '
        '"tools": ["*"]}]; unset: plan, execute, verify, answer',
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="log lines: text for a terminal, json for a log collector (one object a line)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="the least severe log lines written; DEBUG also logs message text and library details",
    )

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _any_case(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "log_level" else value.strip().lower()

    @property
    def llm_configured(self) -> bool:
        """Whether a real OpenAI-compatible endpoint is configured (else the offline demo model)."""
        return bool(self.llm_base_url)


def env_example() -> str:
    """Return the text of ``.env.example``: every setting with its meaning and its default, commented out."""
    lines = [
        "# AgentKit's settings: environment variables, or lines of a .env file in the working directory.",
        "# Generated by `python -m agentkit_app.settings > .env.example`; the values shown are the defaults.",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if default is None:
            shown = ""
        elif isinstance(default, list):
            shown = json.dumps(default)
        else:
            shown = str(default).replace(str(ROOT), ".")
        lines += ["", f"# {field.description}", f"# AGENTKIT_{name.upper()}={shown}"]
    return "\n".join(lines) + "\n"


def masked_url(url: str) -> str:
    """Return ``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return MASK
    if not password:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{netloc[2]}"))


def effective_configuration(settings: Settings) -> dict[str, str]:
    """Return every setting as ``AGENTKIT_NAME`` -> the value in force, secrets masked (unset: empty)."""
    shown: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            text = ""
        elif name in SECRET_SETTINGS:
            text = MASK
        elif name in URL_SETTINGS:
            text = masked_url(str(value))
        elif isinstance(value, list | dict):
            text = json.dumps(value)
        else:
            text = str(value)
        shown[f"AGENTKIT_{name.upper()}"] = text
    return shown


def secret_values(settings: Settings) -> list[str]:
    """Return the secrets in ``settings`` (keys, passwords, URL passwords), for logs to mask wherever they appear."""
    found = [getattr(settings, name) for name in SECRET_SETTINGS]
    for name in URL_SETTINGS:
        url = getattr(settings, name)
        try:
            found.append(urlsplit(url).password if url else None)
        except ValueError:
            continue
    # a placeholder such as the default "not-needed" key is no secret, and masking short words garbles logs
    return sorted({value for value in found if value and len(value) >= 6 and value != "not-needed"})


def _nested(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or a in b.parents or b in a.parents


def contradictions(settings: Settings) -> list[str]:
    """Return what contradicts itself in ``settings``: one message per problem, naming the settings and the fix.

    The one contradiction that needs the database (accounts on, no admin, no admin password) is
    checked where the accounts are opened (:func:`agentkit_app.service.runtime.build_access`).
    """
    problems: list[str] = []
    if settings.llm_recovery_model and not settings.fallback_enabled:
        problems.append(
            "AGENTKIT_LLM_RECOVERY_MODEL is set but AGENTKIT_FALLBACK_ENABLED is false, so the recovery "
            "model would never answer: unset AGENTKIT_LLM_RECOVERY_MODEL or set AGENTKIT_FALLBACK_ENABLED=true"
        )
    if not settings.llm_configured and (settings.llm_models or settings.llm_recovery_model):
        given = "AGENTKIT_LLM_MODELS" if settings.llm_models else "AGENTKIT_LLM_RECOVERY_MODEL"
        problems.append(
            f"{given} is set but AGENTKIT_LLM_BASE_URL is not, so the offline demo model would answer "
            f"instead: set AGENTKIT_LLM_BASE_URL to your endpoint, or unset {given}"
        )
    if settings.llm_configured and settings.llm_models and settings.llm_model not in settings.llm_models:
        problems.append(
            f"AGENTKIT_LLM_MODEL ({settings.llm_model}) is not one of AGENTKIT_LLM_MODELS, so users could "
            "not pick the default model again: add it to AGENTKIT_LLM_MODELS or choose one of them"
        )
    if settings.auth_enabled and not settings.jwt_secret and several_processes(settings):
        problems.append(
            "AGENTKIT_AUTH_ENABLED is true and several processes serve the app (AGENTKIT_REDIS_URL or "
            "REFLEX_REDIS_URL is set) but AGENTKIT_JWT_SECRET is unset, so each process would sign with a "
            "secret of its own and refuse the others' sign-ins: set AGENTKIT_JWT_SECRET to one long random "
            "value shared by every process"
        )
    if reflex_redis_url() and not settings.redis_url:
        problems.append(
            "REFLEX_REDIS_URL is set, so Reflex starts several worker processes, but AGENTKIT_REDIS_URL is "
            "not, so each would keep its runs to itself: set AGENTKIT_REDIS_URL (rxconfig.py hands it to "
            "Reflex) and unset REFLEX_REDIS_URL"
        )
    if _nested(settings.upload_dir, settings.scratch_dir):
        problems.append(
            "AGENTKIT_UPLOAD_DIR and AGENTKIT_SCRATCH_DIR are the same directory or one holds the other, so "
            "the shell tool's working directories would mix with the uploaded files: give them separate directories"
        )
    return problems


def refuse_contradictions(settings: Settings) -> None:
    """Raise :class:`ConfigurationError` listing every contradiction in ``settings`` (see :func:`contradictions`)."""
    problems = contradictions(settings)
    if problems:
        raise ConfigurationError("contradictory settings:\n- " + "\n- ".join(problems))


def reflex_redis_url() -> str | None:
    """Return Reflex's own ``REFLEX_REDIS_URL`` if set: with it, Reflex starts several worker processes."""
    return os.environ.get("REFLEX_REDIS_URL") or None


def several_processes(settings: Settings) -> bool:
    """Whether the deployment is configured for several processes: Redis is set for the app or for Reflex.

    ``AGENTKIT_REDIS_URL`` puts runs on Redis and becomes Reflex's state manager (rxconfig.py), which
    then starts a worker per core; every process must then share the secrets and the storage.
    """
    return bool(settings.redis_url or reflex_redis_url())


def prometheus_multiproc_dir() -> str | None:
    """Return prometheus-client's multi-process directory (``PROMETHEUS_MULTIPROC_DIR``, its own name), if set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()


def reflex_environment() -> dict[str, str]:
    """Return the Reflex variables that let it run offline with the locally installed bun."""
    bun = ROOT / ".bun" / "node_modules" / "bun" / "bin" / "bun.exe"
    if not bun.exists():
        return {}
    return {
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_BUN_PATH": str(bun),
        "BUN_INSTALL_CACHE_DIR": str(ROOT / ".bun" / "cache"),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
    }


if __name__ == "__main__":
    print(env_example(), end="")
