"""The web UI in a real browser: click-to-first-token in the DOM and the bytes the Reflex socket carries
for one streamed answer, in a fresh conversation and in one with 50 earlier turns; then N UI
sessions streaming at once; and the time until a restored 30-card board discussion is visible
(:mod:`bench.restore`).

``python -m bench.browser --sessions 25 --pages 1 --turns 50 --tokens 500 --rate 100 --ttft 0.2``

Of the N sessions at once, ``--pages`` are chromium pages and the rest speak Reflex's event socket
from Python (:mod:`bench.reflex_socket`): the backend does for them all it does for a page. A
chromium renderer spends about a CPU second on every streamed 5-second answer (React, markdown,
layout, paint), so 25 renderers would need about five cores by themselves, and on a 2-core machine
``--pages 25`` measures chromium queueing for the CPU rather than the app (the report prints the
chromium CPU seconds per page, so that shows). The socket sessions give what the backend adds at N
sessions, and the page among them what a reader sees while the backend carries them.

The whole app runs as the browser tests run it (``reflex run --env prod``, UI and API on one port,
:func:`tests.browser.server.start_app`) on a fresh SQLite file, accounts off, with the paced model
(:mod:`bench.paced_model`, a process of its own) as its main model. Debian's chromium, driven by
Playwright, opens each conversation, types the prompt and clicks Send.

Every conversation is written through the store before the app starts, titled as a user would title
it, so that a turn makes one model call; the long one holds ``--turns`` earlier turns, each answer as
long as the one streamed. One untimed turn in a conversation of its own goes first (the first turn
after a start pays for imports and connection pools).

Times come from the page's own clock: the click is the Send button's ``click`` event, a token's arrival
the first DOM mutation after which the new answer's bubble shows it. A token's added delay is its
arrival less the moment the model sent it (click + ``ttft + i / rate``), so it includes the way from
the click to the model; the first token's is the added time to first token. Socket bytes are the
payloads of the frames the page received on Reflex's ``/_event`` socket (Playwright's ``websocket``
events), from the click until the last token is in the DOM, and until the run has ended (the socket
quiet for 0.5 s after the last token). No figure is asserted; the ratios are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from playwright.async_api import Browser, Page, WebSocket, async_playwright

from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.sessions import SessionManager
from bench.common import Row, backend_settings, format_table, percentile, running
from bench.paced_model import Pace, paced_model_spec, reply_text
from bench.reflex_socket import ReflexSocket, until_quiet
from bench.restore import CARDS, restored_board, seed_board
from tests.browser.server import CHROMIUM, CHROMIUM_FLAGS, start_app, stop_app

PROMPT = "Tell me a long story about a lighthouse keeper."
TITLE = "Benchmark"
QUIET_S = 0.5  # the run has ended once its socket is quiet this long after the last token

# Armed right before the click: records the click and, on every DOM change, which tokens of the new
# answer (the bubble after the ones already shown) are visible, as times on the page's own clock.
ARM_JS = """(tokens) => {
  const bubbles = () => document.querySelectorAll('.ak-bubble.ak-assistant');
  const bench = {before: bubbles().length, click: null, arrivals: []};
  window.__akBench = bench;
  document.querySelector('#send_button').addEventListener(
    'click', (event) => { bench.click = event.timeStamp; }, {capture: true, once: true});
  const observer = new MutationObserver(() => {
    const bubble = bubbles()[bench.before];
    if (bench.click === null || !bubble) return;
    const now = performance.now();
    const seen = (bubble.textContent.match(/t\\d{4,}/g) || []).length;
    while (bench.arrivals.length < seen) bench.arrivals.push(now);
    if (seen >= tokens) observer.disconnect();
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@dataclass
class SocketBytes:
    """The payload bytes and frames a page received on Reflex's socket while counting."""

    counting: bool = False
    payload_bytes: int = 0
    frames: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set by every frame received

    def watch(self, socket: WebSocket) -> None:
        """Count the frames ``socket`` receives, if it is Reflex's event socket."""
        if "/_event" in socket.url:
            socket.on("framereceived", self._received)

    async def quiet(self, quiet_s: float, within_s: float) -> None:
        """Return once no frame has arrived for ``quiet_s`` seconds (or after ``within_s`` seconds in all)."""
        await until_quiet(self.arrived, quiet_s, within_s)

    def _received(self, payload: str | bytes) -> None:
        self.arrived.set()
        if self.counting:
            self.payload_bytes += len(payload.encode() if isinstance(payload, str) else payload)
            self.frames += 1


@dataclass
class Answer:
    """What one page saw of one streamed answer."""

    added_ms: list[float] = field(default_factory=list)  # each token's arrival less when the model sent it
    completion_over_ideal: float | None = None
    bytes_to_last_token: int = 0
    frames_to_last_token: int = 0
    bytes_to_end: int = 0
    error: str | None = None

    @property
    def added_ttft_ms(self) -> float | None:
        """Return the added time to first token in the DOM, None if none arrived."""
        return self.added_ms[0] if self.added_ms else None


@dataclass(frozen=True)
class Conversations:
    """The seeded sessions of a run, by id."""

    warm_up: str
    fresh: str
    long: str
    together: list[str]
    empty: str  # never written to: the baseline of the restored board
    board: str = ""  # a board meeting of 30 cards (:func:`bench.restore.seed_board`)


async def seed(database_url: str, pace: Pace, turns: int, sessions: int) -> Conversations:
    """Write the run's conversations through the store: titled by a user, the long one with ``turns`` turns."""
    await asyncio.to_thread(run_migrations, database_url)
    engine = make_engine(database_url)
    try:
        store = SessionManager(engine)

        async def conversation(earlier_turns: int = 0) -> str:
            session = await store.create_session(agent_name="assistant", title=TITLE)
            await store.update_session(session.session_id, server_state={"title_source": "user"})
            for turn in range(earlier_turns):
                sid = session.session_id
                await store.append_message(session_id=sid, role="user", content=f"{PROMPT} ({turn + 1})")
                await store.append_message(
                    session_id=sid, role="assistant", content=reply_text(pace.tokens), agent_name="assistant"
                )
            return session.session_id

        return Conversations(
            warm_up=await conversation(),
            fresh=await conversation(),
            long=await conversation(turns),
            together=[await conversation() for _ in range(sessions)],
            empty=await conversation(),
        )
    finally:
        engine.dispose()


async def open_conversation(
    browser: Browser, url: str, session_id: str, shown: int
) -> tuple[Page, SocketBytes]:
    """Open a conversation in a context of its own, wait until its ``shown`` answers are there, type the prompt."""
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(120_000)
    counter = SocketBytes()
    page.on("websocket", counter.watch)
    await page.goto(f"{url}/chat/{session_id}")
    await page.wait_for_function(f"document.title.startsWith({TITLE!r})")
    await page.wait_for_function(f"document.querySelectorAll('.ak-bubble.ak-assistant').length === {shown}")
    await page.locator("#composer").fill(PROMPT)
    await page.wait_for_timeout(500)  # the draft reaches the server before Send asks for it
    return page, counter


async def click_and_follow(page: Page, counter: SocketBytes, pace: Pace) -> Answer:
    """Click Send and follow the answer into the DOM; return its figures (a failure is the answer's error)."""
    answer = Answer()
    try:
        await page.evaluate(ARM_JS, pace.tokens)
        counter.counting = True
        await page.locator("#send_button").click()
        timeout_ms = (60 + pace.ideal_s * 10) * 1000
        await page.wait_for_function(f"window.__akBench.arrivals.length >= {pace.tokens}", timeout=timeout_ms)
        answer.bytes_to_last_token, answer.frames_to_last_token = counter.payload_bytes, counter.frames
        await counter.quiet(QUIET_S, within_s=30)
        answer.bytes_to_end = counter.payload_bytes
        seen: dict[str, Any] = await page.evaluate("window.__akBench")
        click = float(seen["click"])
        arrivals = [float(a) for a in seen["arrivals"]]
        answer.added_ms = [a - click - pace.due_s(i) * 1000 for i, a in enumerate(arrivals)]
        answer.completion_over_ideal = (arrivals[-1] - click) / (pace.ideal_s * 1000)
    except Exception as exc:  # a page that fails is one of the errors counted
        answer.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        counter.counting = False
    return answer


async def one_answer(browser: Browser, url: str, session_id: str, shown: int, pace: Pace) -> Answer:
    """Stream one answer in a conversation showing ``shown`` answers, alone."""
    page, counter = await open_conversation(browser, url, session_id, shown)
    try:
        return await click_and_follow(page, counter, pace)
    finally:
        await page.context.close()


def chromium_cpu_s() -> float:
    """Return the CPU seconds chromium's processes (browser, renderers, GPU) have used so far."""
    total = 0.0
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in process.name():
                times = process.cpu_times()
                total += times.user + times.system
    return total


@dataclass
class Together:
    """N sessions streaming at once: the chromium pages' answers, the socket sessions', chromium's cost."""

    pages: list[Answer]
    sockets: list[Answer]
    chromium_s_per_page: float  # chromium's CPU seconds per page while they streamed

    @property
    def answers(self) -> list[Answer]:
        """Return every session's answer."""
        return [*self.pages, *self.sockets]


async def send_and_follow(socket: ReflexSocket, pace: Pace) -> Answer:
    """Send the prompt through a UI session without a browser and follow the answer in its state deltas."""
    answer = Answer()
    try:
        pressed = await socket.send_message(PROMPT)
        await socket.wait_tokens(pace.tokens, timeout_s=60 + pace.ideal_s * 10)
        answer.bytes_to_last_token, answer.frames_to_last_token = socket.payload_bytes, socket.frames
        await socket.quiet(QUIET_S, within_s=30)
        answer.bytes_to_end = socket.payload_bytes
        answer.added_ms = [(a - pressed - pace.due_s(i)) * 1000 for i, a in enumerate(socket.arrivals)]
        answer.completion_over_ideal = (socket.arrivals[-1] - pressed) / pace.ideal_s
    except Exception as exc:  # a session that fails is one of the errors counted
        answer.error = f"{type(exc).__name__}: {exc}"[:200]
    return answer


async def answers_at_once(
    browser: Browser, url: str, session_ids: Sequence[str], pace: Pace, pages: int
) -> Together:
    """Open every fresh conversation, ``pages`` of them in chromium and the rest as socket sessions, then
    send in all of them at the same moment."""
    opened = [await open_conversation(browser, url, sid, 0) for sid in session_ids[:pages]]
    sockets = [ReflexSocket(url, sid) for sid in session_ids[pages:]]
    try:
        for socket in sockets:
            await socket.open()
        chromium_before = chromium_cpu_s()
        answers = await asyncio.gather(
            *(click_and_follow(page, counter, pace) for page, counter in opened),
            *(send_and_follow(socket, pace) for socket in sockets),
        )
        chromium_s = chromium_cpu_s() - chromium_before
        return Together(list(answers[:pages]), list(answers[pages:]), chromium_s / max(pages, 1))
    finally:
        for page, _ in opened:
            await page.context.close()
        for socket in sockets:
            await socket.close()


@dataclass
class BrowserFigures:
    """The figures of one run: one answer in a fresh and in a long conversation, and N at once."""

    pace: Pace
    turns: int
    fresh: Answer
    long: Answer
    together: Together
    # from navigation until the restored board's cards are visible, and an empty conversation's composer
    board_ms: float = float("nan")
    empty_ms: float = float("nan")


async def _in_browser(
    url: str, conversations: Conversations, pace: Pace, turns: int, pages: int
) -> BrowserFigures:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            await one_answer(browser, url, conversations.warm_up, 0, pace)
            board_ms, empty_ms = await restored_board(browser, url, conversations.board, conversations.empty)
            fresh = await one_answer(browser, url, conversations.fresh, 0, pace)
            long = await one_answer(browser, url, conversations.long, turns, pace)
            together = await answers_at_once(browser, url, conversations.together, pace, pages)
        finally:
            await browser.close()
    return BrowserFigures(pace, turns, fresh, long, together, board_ms, empty_ms)


def measure(pace: Pace, turns: int = 50, sessions: int = 25, pages: int = 1) -> BrowserFigures:
    """Start the paced model and the whole app on seeded conversations, and measure them in chromium.

    Of the ``sessions`` streaming at once, ``pages`` are chromium pages and the rest socket sessions.
    """
    model_spec = paced_model_spec(pace)
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as data:
        settings = backend_settings(Path(data), f"{model_spec.base}/v1")
        conversations = asyncio.run(seed(settings["AGENTKIT_DATABASE_URL"], pace, turns, sessions))
        board = asyncio.run(seed_board(settings["AGENTKIT_DATABASE_URL"], Path(data)))
        conversations = dataclasses.replace(conversations, board=board)
        with running(model_spec):
            process, url = start_app(
                Path(data), Path(data) / "app.log", **settings, AGENTKIT_AUTH_ENABLED="false"
            )
            try:
                return asyncio.run(_in_browser(url, conversations, pace, turns, min(pages, sessions)))
            finally:
                stop_app(process)


def _kb(value: int) -> float:
    return value / 1024


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def history_rows(figures: BrowserFigures) -> list[Row]:
    """Return the rows comparing one answer in the long conversation (app) with one in a fresh one (baseline)."""
    long, fresh = figures.long, figures.fresh

    def p99(answer: Answer) -> float:
        return percentile(answer.added_ms, 99)

    return [
        Row("added time to first token in the DOM (ms)", _or_nan(long.added_ttft_ms), _or_nan(fresh.added_ttft_ms)),
        Row("added delay per token p99 (ms)", p99(long), p99(fresh)),
        Row("completion / ideal", _or_nan(long.completion_over_ideal), _or_nan(fresh.completion_over_ideal), 2),
        Row("socket KB received, click to last token", _kb(long.bytes_to_last_token), _kb(fresh.bytes_to_last_token)),
        Row("socket frames received, click to last token", long.frames_to_last_token, fresh.frames_to_last_token, 0),
        Row("socket KB received, click to end of run", _kb(long.bytes_to_end), _kb(fresh.bytes_to_end)),
        Row("errors", long.error or "0", fresh.error or "0"),
    ]  # fmt: skip


def together_rows(figures: BrowserFigures) -> list[Row]:
    """Return the rows comparing N sessions streaming at once (app) with one fresh page alone (baseline).

    The socket sessions' figures are what the backend adds with N sessions on it (arrival in the state
    delta); the chromium pages' are what their reader sees (arrival in the DOM), rendering included.
    """
    together, alone = figures.together, figures.fresh
    answers = together.answers
    done = [a for a in answers if a.error is None]
    sockets = [a for a in together.sockets if a.error is None]
    pages = [a for a in together.pages if a.error is None]
    completions = [a.completion_over_ideal for a in done if a.completion_over_ideal is not None]
    per_answer_kb = [_kb(a.bytes_to_last_token) for a in done]
    errors = [a.error for a in answers if a.error is not None]

    def first(group: list[Answer]) -> list[float]:
        return [a.added_ttft_ms for a in group if a.added_ttft_ms is not None]

    def every(group: list[Answer]) -> list[float]:
        return [ms for a in group for ms in a.added_ms]

    alone_first, alone_p99 = _or_nan(alone.added_ttft_ms), percentile(alone.added_ms, 99)
    return [
        Row(f"socket sessions ({len(together.sockets)}): added time to first token p50 (ms)", percentile(first(sockets), 50), alone_first),
        Row("socket sessions: added time to first token p99 (ms)", percentile(first(sockets), 99), alone_first),
        Row("socket sessions: added delay per token p50 (ms)", percentile(every(sockets), 50), percentile(alone.added_ms, 50)),
        Row("socket sessions: added delay per token p99 (ms)", percentile(every(sockets), 99), alone_p99),
        Row(f"chromium pages ({len(together.pages)}): added time to first token p99 in the DOM (ms)", percentile(first(pages), 99), alone_first),
        Row("chromium pages: added delay per token p99 in the DOM (ms)", percentile(every(pages), 99), alone_p99),
        Row("chromium CPU seconds per page while streaming", together.chromium_s_per_page, float("nan")),
        Row("completion / ideal p50", percentile(completions, 50), _or_nan(alone.completion_over_ideal), 2),
        Row("completion / ideal max", percentile(completions, 100), _or_nan(alone.completion_over_ideal), 2),
        Row("socket KB per answer p50, click to last token", percentile(per_answer_kb, 50), _kb(alone.bytes_to_last_token)),
        Row("socket frames per answer p50, click to last token", percentile([a.frames_to_last_token for a in done], 50), alone.frames_to_last_token, 0),
        Row("answers complete", f"{len(done)}/{len(answers)}", "1/1" if alone.error is None else "0/1"),
        Row("errors", str(len(errors)), "0" if alone.error is None else "1"),
    ]  # fmt: skip


def print_report(figures: BrowserFigures) -> None:
    """Print the run's two tables and the first errors, if any."""
    pace = figures.pace
    print(
        f"paced model: {pace.tokens} tokens at {pace.rate:g}/s after {pace.ttft_s:g} s (ideal {pace.ideal_s:.2f} s)"
    )
    print()
    title = f"one answer in the browser: {figures.turns} earlier turns against a fresh conversation"
    print(format_table(title, history_rows(figures), app=f"{figures.turns} earlier turns", baseline="fresh"))
    print()
    count = len(figures.together.answers)
    title = f"{count} UI sessions streaming at once against one page alone"
    print(format_table(title, together_rows(figures), app=f"{count} at once", baseline="one alone"))
    print()
    rows = [
        Row(
            f"ms from navigation to visible ({CARDS} board cards / the composer)",
            figures.board_ms,
            figures.empty_ms,
        )
    ]
    print(format_table("a restored board discussion", rows, app="board", baseline="empty conversation"))
    errors = [a.error for a in [figures.fresh, figures.long, *figures.together.answers] if a.error]
    if errors:
        print(f"\nerrors (first 3): {errors[:3]}")


def main(argv: list[str] | None = None) -> None:
    """Run the browser benchmark and print its tables."""
    parser = argparse.ArgumentParser(
        description="AgentKit's web UI in chromium: first token, socket bytes, N sessions."
    )
    parser.add_argument("--sessions", type=int, default=25, help="UI sessions streaming at once")
    parser.add_argument(
        "--pages",
        type=int,
        default=1,
        help="how many of them are chromium pages (the rest speak Reflex's socket)",
    )
    parser.add_argument("--turns", type=int, default=50, help="earlier turns of the long conversation")
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--ttft", type=float, default=0.2, help="the model's seconds to the first token")
    args = parser.parse_args(argv)
    pace = Pace(ttft_s=args.ttft, rate=args.rate, tokens=args.tokens)
    print_report(measure(pace, turns=args.turns, sessions=args.sessions, pages=args.pages))


if __name__ == "__main__":
    main()
