"""The Prometheus metrics of the app (prometheus-client), and the text ``/metrics`` answers with.

Runs are counted once each, when they end, from the figures their answer already carries (tokens,
model, tier, time to first token): nothing here runs per token. With ``PROMETHEUS_MULTIPROC_DIR``
set, every worker process writes its figures there and a scrape of any worker reads them all.
"""

from __future__ import annotations

import threading

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from agentkit_app.settings import prometheus_multiproc_dir

CONTENT_TYPE = CONTENT_TYPE_LATEST
_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)

HTTP_REQUESTS = Counter(
    "agentkit_http_requests",
    "HTTP requests answered, by method, route template (other: the web UI's) and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "agentkit_http_request_duration_seconds",
    "Time to answer an HTTP request (a streamed reply: until its last byte), by method and route template",
    ["method", "route"],
)
WEBSOCKETS = Gauge(
    "agentkit_websocket_connections",
    "WebSocket connections open, by route template (other: the web UI's own socket)",
    ["route"],
    multiprocess_mode="livesum",
)
RUNS = Counter(
    "agentkit_runs",
    "Runs ended, by kind (chat, plan, board, team) and outcome (answered, error, cancelled, ended)",
    ["kind", "outcome"],
)
RUNS_IN_FLIGHT = Gauge(
    "agentkit_runs_in_flight",
    "Runs started and not ended yet, by kind",
    ["kind"],
    multiprocess_mode="livesum",
)
RUN_SECONDS = Histogram(
    "agentkit_run_duration_seconds",
    "Time from a run's start to its end, by kind and outcome",
    ["kind", "outcome"],
    buckets=_SECONDS,
)
FIRST_TOKEN_SECONDS = Histogram(
    "agentkit_run_first_token_seconds",
    "Time to the first answer token of a run's first model call, by kind",
    ["kind"],
    buckets=_SECONDS,
)
TOKENS = Counter(
    "agentkit_tokens",
    "Model tokens of answered runs, by direction (in: prompt, out: completion), model and tier",
    ["direction", "model", "tier"],
)
ANSWER_TIERS = Counter(
    "agentkit_answers_by_tier",
    "Answers by the tier of the fallback chain that gave them (main, recovery, emergency), by kind",
    ["kind", "tier"],
)
QUOTA_REFUSALS = Counter(
    "agentkit_quota_refusals",
    "Turns refused by a department quota, by quota type and period",
    ["quota_type", "period"],
)
SANDBOX_KILLS = Counter(
    "agentkit_sandbox_kills",
    "Shell commands the sandbox stopped, by reason (timeout, output: wrote more than the limit)",
    ["reason"],
)

# model names come from the endpoint or the request: past this many, new ones count as "other"
MAX_MODEL_LABELS = 32
_models: set[str] = set()
_models_lock = threading.Lock()


def model_label(name: str | None) -> str:
    """Return the label a model is counted under: its name, or ``other`` once too many names were seen."""
    name = (name or "unknown")[:64]
    with _models_lock:
        if name in _models:
            return name
        if len(_models) < MAX_MODEL_LABELS:
            _models.add(name)
            return name
    return "other"


def exposition() -> bytes:
    """Return every metric in Prometheus' text format: this process's, or all workers' in multi-process mode."""
    directory = prometheus_multiproc_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)
