"""The settings an operator reads: .env.example lists every one, with its meaning and default."""

from __future__ import annotations

from agentkit_app.settings import ROOT, Settings, env_example


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
