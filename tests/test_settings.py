"""The settings an operator reads: .env.example lists every one, with its meaning and default."""

from __future__ import annotations

import pytest

from agentkit_app.settings import (
    ROOT,
    SECRET_SETTINGS,
    ConfigurationError,
    Settings,
    contradictions,
    effective_configuration,
    env_example,
    refuse_contradictions,
)


def test_env_example_lists_every_setting_as_the_settings_class_has_it():
    written = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert written == env_example(), "settings changed: run `python -m agentkit_app.settings > .env.example`"
    for name in Settings.model_fields:
        assert f"# AGENTKIT_{name.upper()}=" in written


def test_every_setting_says_what_it_is_for():
    missing = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert missing == []


def test_the_example_shows_no_path_of_the_machine_it_was_made_on():
    assert str(ROOT) not in env_example()


def test_the_effective_configuration_shows_every_setting_with_its_secrets_masked():
    settings = Settings(
        api_key="deployment-key-abc123",
        jwt_secret="jwt-secret-0123456789-0123456789-xyz",
        admin_password="admin-pass-7788",
        llm_api_key="sk-live-0011223344",
        database_url="postgresql+psycopg://agent:db-pass-4455@db.internal:5432/agentkit",
        redis_url="redis://:redis-pass-6677@cache:6379/0",
        llm_base_url="https://user:llm-pass-99@llm.example/v1",
        board_max_rounds=7,
    )
    shown = effective_configuration(settings)
    assert list(shown) == [f"AGENTKIT_{name.upper()}" for name in Settings.model_fields]
    for name in SECRET_SETTINGS:
        assert shown[f"AGENTKIT_{name.upper()}"] == "***"
    assert shown["AGENTKIT_DATABASE_URL"] == "postgresql+psycopg://agent:***@db.internal:5432/agentkit"
    assert shown["AGENTKIT_REDIS_URL"] == "redis://:***@cache:6379/0"
    assert shown["AGENTKIT_LLM_BASE_URL"] == "https://user:***@llm.example/v1"
    assert shown["AGENTKIT_BOARD_MAX_ROUNDS"] == "7" and shown["AGENTKIT_JWT_SECRET"] == "***"
    text = "\n".join(shown.values())
    for secret in ("abc123", "0123456789", "7788", "0011223344", "4455", "6677", "llm-pass-99"):
        assert secret not in text
    # unset secrets show as unset, not as a mask that suggests a value
    assert effective_configuration(Settings())["AGENTKIT_API_KEY"] == ""


def test_the_defaults_contradict_nothing():
    assert contradictions(Settings()) == []
    refuse_contradictions(Settings())


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (
            {"llm_base_url": "http://llm/v1", "llm_recovery_model": "small", "fallback_enabled": False},
            ("AGENTKIT_LLM_RECOVERY_MODEL", "AGENTKIT_FALLBACK_ENABLED"),
        ),
        ({"llm_models": ["gpt-4o"]}, ("AGENTKIT_LLM_MODELS", "AGENTKIT_LLM_BASE_URL")),
        (
            {"llm_base_url": "http://llm/v1", "llm_model": "a", "llm_models": ["b", "c"]},
            ("AGENTKIT_LLM_MODEL", "AGENTKIT_LLM_MODELS"),
        ),
        (
            {"upload_dir": ROOT / "data" / "files", "scratch_dir": ROOT / "data"},
            ("AGENTKIT_UPLOAD_DIR", "AGENTKIT_SCRATCH_DIR"),
        ),
    ],
)
def test_contradictory_settings_are_refused_naming_the_settings_and_the_fix(settings, named):
    with pytest.raises(ConfigurationError) as refused:
        refuse_contradictions(Settings(**settings))
    message = str(refused.value)
    assert all(name in message for name in named)
    assert ": " in message and ("set " in message or "add " in message or "give " in message)


def test_every_contradiction_is_listed_at_once():
    problems = contradictions(Settings(llm_recovery_model="small", fallback_enabled=False, scratch_dir=ROOT))
    assert len(problems) == 3


def test_accounts_on_several_processes_need_one_shared_jwt_secret(monkeypatch):
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    several = Settings(auth_enabled=True, jwt_secret=None, redis_url="redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigurationError, match="AGENTKIT_JWT_SECRET"):
        refuse_contradictions(several)
    refuse_contradictions(several.model_copy(update={"jwt_secret": "x" * 48}))
    refuse_contradictions(Settings(auth_enabled=True, jwt_secret=None))  # one process: a warning only
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:6379/0")
    problems = contradictions(Settings(auth_enabled=True, jwt_secret=None))
    assert any("AGENTKIT_JWT_SECRET" in p for p in problems)
    assert any("REFLEX_REDIS_URL is set" in p and "AGENTKIT_REDIS_URL" in p for p in problems)
