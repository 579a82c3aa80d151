"""The shared page's reading of its URL, and the items it shows with nothing left to change them."""

from __future__ import annotations

from agentkit_app.ui.items import ChatItem, VersionsPart
from agentkit_app.ui.states.share import read_only, token_in


def test_the_token_is_read_from_a_share_path_only():
    assert token_in("/share/abc_DEF-123") == "abc_DEF-123"
    assert token_in("/share/abc/extra") == "abc"
    assert token_in("/share/") == ""
    assert token_in("/chat/abc") == ""
    assert token_in("/x/share/abc") == ""


def test_shared_items_keep_their_content_but_no_votes_or_versions():
    items = [
        ChatItem(id="a", kind="speech", content="a speech", rateable=True),
        ChatItem(id="b", kind="user", content="hi", versions=VersionsPart(label="2 / 3", prev="x", next="y")),
    ]
    shown = read_only(items)
    assert [(i.id, i.kind, i.content) for i in shown] == [(i.id, i.kind, i.content) for i in items]
    assert not any(i.rateable for i in shown)
    assert all(i.versions == VersionsPart() for i in shown)
    assert items[0].rateable and items[1].versions.label == "2 / 3"  # the originals are untouched
