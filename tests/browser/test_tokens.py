"""Personal API tokens in a real browser: made on the tokens page, shown once, copied, used, revoked."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_headers, sign_in

pytestmark = pytest.mark.browser


def test_a_user_makes_a_token_sees_it_once_copies_it_and_revokes_it(page: Page, app_url: str):
    page.set_default_timeout(20_000)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, app_url)
    page.locator("#tokens_link").click()
    page.wait_for_url("**/settings/tokens")
    page.locator("#tokens_page").wait_for()

    page.locator("#token_create").click()
    expect(page.locator("#token_error")).to_contain_text("1 to 100")
    page.locator("#token_name_input").fill("nightly report")
    page.locator("#token_create").click()
    expect(page.locator("#new_token")).to_contain_text("ak_")
    token = page.locator("#new_token").inner_text()
    expect(page.locator("#token_error")).to_have_count(0)
    row = page.locator(".ak-token", has_text="nightly report")
    expect(row).to_be_visible()
    expect(row.locator(".ak-token-prefix")).to_contain_text(token[:15])
    expect(row.locator(".ak-token-last-used")).to_have_text("Not yet")

    page.locator("#token_copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == token
    me = httpx.get(f"{app_url}/api/v1/auth/me", headers={"X-API-Key": token})
    assert me.status_code == 200 and me.json()["user"]["username"] == "admin"

    page.locator("#token_done").click()
    expect(page.locator("#new_token_callout")).to_have_count(0)
    page.reload()
    expect(row).to_be_visible()
    assert token not in page.content(), "the token is shown once, never again"
    expect(row.locator(".ak-token-last-used")).not_to_have_text("Not yet")
    listed = httpx.get(f"{app_url}/api/v1/admin/tokens", headers=admin_headers(app_url)).json()
    assert any(t["name"] == "nightly report" for t in listed) and token not in str(listed)

    page.locator("#admin_link").click()
    page.wait_for_url("**/admin")
    expect(page.locator(".ak-admin-token", has_text="nightly report")).to_be_visible()
    page.locator("#tokens_link").click()
    page.wait_for_url("**/settings/tokens")
    row.locator(".ak-token-revoke").click()
    expect(row).to_have_count(0)
    assert httpx.get(f"{app_url}/api/v1/auth/me", headers={"X-API-Key": token}).status_code == 401
