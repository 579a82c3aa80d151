"""What the composer says about files the browser refuses to upload, and what it keeps of those it takes."""

from __future__ import annotations

from agentkit_app.service.upload_previews import UploadPreview
from agentkit_app.ui.states.composer import attachment_chip, refusal_text

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
