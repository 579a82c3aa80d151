"""Deployment settings: the only reader of environment variables (prefix ``AGENTKIT_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything a deployment may change, read from ``AGENTKIT_*`` variables or ``.env``."""

    model_config = SettingsConfigDict(env_prefix="AGENTKIT_", env_file=".env", extra="ignore")

    port: int = 3000
    database_url: str = f"sqlite:///{ROOT / 'data' / 'agentkit.db'}"
    redis_url: str | None = None
    redis_key_prefix: str = "agentkit"

    llm_base_url: str | None = None
    llm_api_key: str = "not-needed"
    llm_model: str = "gpt-4o-mini"
    llm_models: list[str] = Field(default_factory=list)
    llm_recovery_model: str | None = None
    llm_timeout_s: float = 60.0
    # further tries of a model call that failed before answering (connection error, 408, 429, 5xx)
    llm_max_retries: int = Field(default=2, ge=0)
    fallback_enabled: bool = True

    api_key: str | None = None

    # User accounts, departments and quotas. Off: no sign-in, everyone sees every session, no limits.
    auth_enabled: bool = False
    # Signs the sign-in tokens (HS256). Unset with accounts on: a random secret per process, so
    # tokens die with a restart and are not shared between worker processes.
    jwt_secret: str | None = None
    token_ttl_s: int = 12 * 3600
    # The admin created on start when accounts are on and no admin exists (none without a password).
    admin_username: str = "admin"
    admin_password: str | None = None
    # failed sign-ins allowed per user name and per client address (a ``limits`` rate: "5/minute")
    signin_limit_per_username: str = "5/minute"
    signin_limit_per_address: str = "5/minute"

    upload_dir: Path = ROOT / "data" / "uploads"
    upload_max_bytes: int = 10 * 1024 * 1024
    # one scratch directory per session below it: the shell's working directory
    scratch_dir: Path = ROOT / "data" / "scratch"
    # The shell tool runs each command in a bubblewrap sandbox within these limits; where no sandbox
    # can start (no bwrap, user namespaces disabled), there is no shell tool at all.
    shell_timeout_s: float = 20.0
    shell_memory_mb: int = 1024  # address space of each process
    shell_max_processes: int = 64  # processes and threads at once
    shell_max_output_bytes: int = 64_000  # more output stops the command
    shell_max_file_mb: int = 64  # the largest file a command may write; also the size of its /tmp
    confirmation_timeout_s: float = 300.0
    max_content_chars: int = 32_000

    board_max_rounds: int = 5
    team_checkpoint_ttl_s: int = 7 * 24 * 3600
    plan_exec_enabled: bool = True
    # The phases of plan-execute as a list of {name, tools, description?} ("*" = all the agent's tools),
    # or its JSON / YAML text, e.g. [{"name": "plan", "tools": []}, {"name": "execute", "tools": ["*"]}].
    # Unset: plan, execute, verify, answer. Kept as given: a bad policy fails the turn, not the startup.
    plan_exec_policy: Any = None

    @property
    def llm_configured(self) -> bool:
        """Whether a real OpenAI-compatible endpoint is configured (else the offline demo model)."""
        return bool(self.llm_base_url)


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
