"""A restored board discussion in the browser: the time until all its cards are visible, against an empty page.

Part of ``python -m bench.browser``: before the app starts, :func:`seed_board` holds a board meeting
through the service (``ChatService``, as the app runs it) with a scripted model, five experts over five
rounds: 25 speeches and 5 moderator summaries, 30 cards, then the conclusion. In chromium,
:func:`visible_ms` opens the conversation and reads the page's own clock (milliseconds since the
navigation began) when the last card is in the DOM and visible; the baseline is the same for a
conversation with no messages, until its composer is visible.
"""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import Browser

from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.engine.ports import MemoryCheckpointStore
from agentkit_app.engine.tools import ToolContext
from agentkit_app.service.catalog import load_catalog
from agentkit_app.service.chat import ChatService, ServiceConfig, TurnRequest
from agentkit_app.service.uploads import UploadStore
from agentkit_app.store.db import make_engine
from agentkit_app.store.sessions import SessionManager

EXPERTS = ["Strategist", "Engineer", "Investor", "Customer Advocate", "Risk Officer"]
ROUNDS = 5
CARDS = len(EXPERTS) * ROUNDS + ROUNDS  # speeches and the moderator's summary of each round
TOPIC = "should we open a second shop downtown?"
SPEECH = (
    "From where I sit the second shop is worth it only if the first one keeps its margins. "
    "Rent downtown is double, footfall is triple on weekdays and flat at weekends; staffing two "
    "places splits the best people we have. I would pilot a pop-up for three months, measure "
    "conversion against the flagship, and decide on numbers rather than on hope."
)


def _board_reply(call: Call) -> Reply:
    """Answer a board's calls as a meeting that runs all its rounds: speeches, summaries, the conclusion."""
    if call.purpose == "board.summary":
        return Reply(text="The board weighed cost against reach; views still differ. CONSENSUS: no")
    if call.purpose == "board.conclusion":
        conclusion = {
            "summary": "Pilot before committing.",
            "decision_advice": "Run a three-month pop-up downtown and compare it with the flagship.",
            "consensus_points": ["Measure before signing a lease"],
            "dissent_points": ["The Investor would sign now"],
        }
        return Reply(text=json.dumps(conclusion))
    return Reply(text=SPEECH)


async def seed_board(database_url: str, data: Path) -> str:
    """Hold the benchmark's board meeting on the database at ``database_url``; return its session id."""
    engine = make_engine(database_url)
    try:
        service = ChatService(
            store=SessionManager(engine),
            catalog=load_catalog(),
            llm=ScriptedModel(_board_reply),
            config=ServiceConfig(tool_context=ToolContext(data / "uploads", data / "scratch", 5.0)),
            checkpoints=MemoryCheckpointStore(),
            uploads=UploadStore(data / "uploads", 1024 * 1024),
        )
        session = await service.create_session("assistant")
        command = f"@board:{','.join(EXPERTS)} rounds={ROUNDS} {TOPIC}"
        run = await service.start_turn(TurnRequest(session_id=session.session_id, content=command))
        assert run.task is not None
        await run.task
        return session.session_id
    finally:
        engine.dispose()


# Resolves (polled every frame) to the page's clock once ``selector`` matches ``count`` visible elements.
VISIBLE_JS = """([selector, count]) => {
  const shown = [...document.querySelectorAll(selector)].filter((el) => el.checkVisibility());
  return shown.length >= count ? performance.now() : false;
}"""


async def visible_ms(browser: Browser, url: str, selector: str, count: int) -> float:
    """Open ``url`` in a fresh context; return the milliseconds from navigation to ``count`` visible ``selector``."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        page.set_default_timeout(120_000)
        await page.goto(url, wait_until="commit")
        handle = await page.wait_for_function(VISIBLE_JS, arg=[selector, count], polling="raf")
        return float(await handle.json_value())
    finally:
        await context.close()


async def restored_board(browser: Browser, url: str, board: str, empty: str) -> tuple[float, float]:
    """Return the time until the board's cards are visible, and until an empty conversation's composer is."""
    cards = await visible_ms(browser, f"{url}/chat/{board}", ".ak-speech, .ak-summary", CARDS)
    page = await visible_ms(browser, f"{url}/chat/{empty}", "#composer", 1)
    return cards, page
