"""What the service tells its operators about runs, quotas and the sandbox: a log line and the metrics.

The hooks are called once per run (start and end), per refusal and per stopped command; none of
them runs per token. A run's figures are read at its end from the answer it published (which
already carries its model, tier, tokens and time to first token).
"""

from __future__ import annotations

import contextvars
import logging
import time
from typing import TYPE_CHECKING, Any

from agentkit_app.engine import events as ev
from agentkit_app.service import metrics
from agentkit_app.service.logs import bind

if TYPE_CHECKING:
    from agentkit_app.service.runs import Run

log = logging.getLogger(__name__)


def run_context(run: Run) -> contextvars.Context:
    """Count ``run`` as started and return the context its task runs in: the caller's, with the run's ids."""
    context = contextvars.copy_context()
    context.run(bind, session_id=run.session_id, run_id=run.run_id)
    metrics.RUNS_IN_FLIGHT.labels(run.kind).inc()
    context.run(log.info, "run started", extra={"kind": run.kind})
    return context


def run_ended(run: Run) -> None:
    """Count ``run`` as ended, with its outcome, duration, tokens, tier and time to first token; log one line."""
    metrics.RUNS_IN_FLIGHT.labels(run.kind).dec()
    try:
        _count_ended(run)
    except Exception:  # figures of an odd shape must not turn a finished run into a failure
        log.exception("could not count the end of the run")


def _count_ended(run: Run) -> None:
    outcome, answer = _outcome(run)
    figures: dict[str, Any] = answer.metadata if answer is not None else {}
    kind = _kind(run, figures)
    duration = max(0.0, time.time() - run.started_at)
    metrics.RUNS.labels(kind, outcome).inc()
    metrics.RUN_SECONDS.labels(kind, outcome).observe(duration)
    usage = figures.get("usage") if isinstance(figures.get("usage"), dict) else None
    line: dict[str, Any] = {"kind": kind, "outcome": outcome, "duration_s": round(duration, 3)}
    if usage is not None:
        model, tier = metrics.model_label(figures.get("model")), str(figures.get("tier") or "main")
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        metrics.TOKENS.labels("in", model, tier).inc(prompt)
        metrics.TOKENS.labels("out", model, tier).inc(completion)
        metrics.ANSWER_TIERS.labels(kind, tier).inc()
        first = usage.get("first_token_s")
        if isinstance(first, int | float):
            metrics.FIRST_TOKEN_SECONDS.labels(kind).observe(first)
        line.update(
            model=figures.get("model"),
            tier=tier,
            prompt_tokens=prompt,
            completion_tokens=completion,
            first_token_s=first,
            model_calls=usage.get("calls"),
        )
    log.info("run ended", extra=line)


def _outcome(run: Run) -> tuple[str, ev.FinalAnswer | None]:
    """Return how ``run`` ended (answered, error, cancelled, ended) and its answer, read from its last events."""
    for event in reversed(run.events):
        if isinstance(event, ev.FinalAnswer):
            return "answered", event
        if isinstance(event, ev.Error):
            return "error", None
        if isinstance(event, ev.Result):
            return ("cancelled" if event.status == "cancelled" else "ended"), None
    return "ended", None


def _kind(run: Run, figures: dict[str, Any]) -> str:
    """Return the run's kind as counted: a chat turn that went through plan-execute phases is ``plan``."""
    if run.kind != "chat":
        return run.kind
    if figures:
        return "plan" if figures.get("execution_mode") == "plan_exec" else "chat"
    # a turn without an answer: its events say whether it had phases (once per run, at its end)
    return "plan" if any(isinstance(event, ev.PhaseChanged) for event in run.events) else "chat"


def quota_refused(quota_info: dict[str, Any]) -> None:
    """Count a turn refused by a quota and log it (the department and the quota, no message)."""
    metrics.QUOTA_REFUSALS.labels(str(quota_info.get("quota_type")), str(quota_info.get("period"))).inc()
    log.info("quota refused a turn", extra={"quota": quota_info})


def sandbox_stopped(reason: str) -> None:
    """Count a shell command the sandbox stopped (``timeout`` or ``output``)."""
    metrics.SANDBOX_KILLS.labels(reason).inc()
