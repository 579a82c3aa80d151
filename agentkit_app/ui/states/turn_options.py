"""How the next turns are answered: the model picked beside the composer, and plan-execute mode.

A state of its own because the conversation starts turns too (regenerate, edit and resend), with
the same model as the composer's.
"""

from __future__ import annotations

import reflex as rx

from agentkit_app.engine.llm.demo import DEMO_MODEL_NAME
from agentkit_app.ui.states.prefs import PrefsState


class TurnOptionsState(rx.State):
    """The model picker and the plan-execute switch."""

    model: str = ""
    models: list[str] = []
    plan_exec: bool = False

    def _offer(self, models: list[str]) -> None:
        """Offer ``models``; the one picked stays picked while it is among them."""
        self.models = models
        self.model = self.model if self.model in models else (models[0] if models else "")

    @rx.event
    def set_model(self, value: str) -> None:
        """Choose the model of the next messages."""
        self.model = value

    @rx.event
    def set_plan_exec(self, value: bool) -> None:
        """Answer the next messages in plan-execute phases (plan, execute, verify, answer)."""
        self.plan_exec = value


async def turn_options(state: rx.State) -> tuple[str | None, str]:
    """Return the model of the next turn (None: the deployment's own) and the UI language."""
    options = await state.get_state(TurnOptionsState)
    lang = (await state.get_state(PrefsState)).lang
    return (options.model if options.model and options.model != DEMO_MODEL_NAME else None), lang
