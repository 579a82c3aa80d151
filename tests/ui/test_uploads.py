"""What the composer says about files the browser refuses to upload, and what it keeps of those it takes."""

from __future__ import annotations

import pytest
from reflex.state import State

from agentkit_app.service.upload_previews import UploadPreview
from agentkit_app.ui.states.composer import ComposerState, attachment_chip, refusal_text, with_attachment

MB = 1024 * 1024


def test_a_too_large_file_is_named_with_the_limit_in_both_languages():
    rejected = "./big.zip|file-too-large"
    assert refusal_text(rejected, "en", 10 * MB) == "big.zip: larger than the 10 MB upload limit"
    assert refusal_text(rejected, "zh", 10 * MB) == "big.zip: 超过了 10 MB 的上传上限"


def test_too_many_files_and_other_refusals_have_their_own_reason():
    assert refusal_text("a|b.txt|too-many-files", "en", MB) == "a|b.txt: at most 5 files at a time"
    assert refusal_text("garbage", "fr", MB) == "garbage: cannot be attached"
    assert refusal_text("|file-invalid-type", "en", MB) == "?: cannot be attached"


def test_an_attachment_keeps_its_preview_for_the_chip():
    preview = UploadPreview("pdf", "Board memo", "")
    assert attachment_chip("memo.pdf", "ab12.pdf", preview) == {
        "filename": "memo.pdf",
        "stored_name": "ab12.pdf",
        "kind": "pdf",
        "lines": "Board memo",
        "thumbnail": "",
    }
    assert attachment_chip("x.bin", "cd34.bin", None)["kind"] == "none", "no preview: a plain chip"


@pytest.fixture
def composer() -> ComposerState:
    """The composer of a fresh tab, holding conversation A with some text typed."""
    root = State(_reflex_internal_init=True)
    state = root.get_substate(ComposerState.get_full_name().split("."))
    assert isinstance(state, ComposerState)
    state._swap("A")
    state.draft = "about the memo"
    return state


def test_a_file_attached_as_another_conversation_opens_waits_in_that_one(composer: ComposerState):
    # the file was dropped on B's page before the composer had opened B (its on-load event came later)
    composer._keep_attachment(attachment_chip("memo.pdf", "ab12.pdf", None), "B")
    assert composer.attachments == [], "not in A's composer"
    composer._swap("B")
    assert [a["filename"] for a in composer.attachments] == ["memo.pdf"]
    composer._swap("A")
    assert (composer.draft, composer.attachments) == ("about the memo", []), "A's text is as it was"


def test_a_file_for_the_open_conversation_joins_its_other_files(composer: ComposerState):
    composer._keep_attachment(attachment_chip("one.txt", "1.txt", None), "A")
    composer._keep_attachment(attachment_chip("two.txt", "2.txt", None), "A")
    assert [a["filename"] for a in composer.attachments] == ["one.txt", "two.txt"]
    drafts = with_attachment({"B": {"text": "hi", "attachments": []}}, "B", composer.attachments[0])
    assert drafts["B"] == {"text": "hi", "attachments": [composer.attachments[0]]}
