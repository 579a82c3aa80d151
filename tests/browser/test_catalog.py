"""The catalog editor in a real browser: a new agent reaches the picker, an expert changes its looks."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_headers
from tests.browser.test_admin import open_admin

pytestmark = pytest.mark.browser


def test_an_agent_created_on_the_admin_page_is_offered_in_the_picker(page: Page, app_url: str):
    open_admin(page, app_url)
    page.locator("#catalog_new_agent").click()
    page.locator("#catalog_name").fill("haiku")
    page.locator("#catalog_display_name").fill("Haiku poet")
    page.locator("#catalog_save").click()
    expect(page.locator("#catalog_error")).to_contain_text("system_prompt cannot be empty")
    page.locator("#catalog_system_prompt").fill("You answer every question with a haiku.")
    page.locator("#catalog_tool_calculator").click()
    page.locator("#catalog_save").click()
    expect(page.locator("#catalog_dialog")).to_be_hidden()
    expect(page.locator(".ak-catalog-agent[data-name='haiku']")).to_contain_text("calculator")

    page.goto(f"{app_url}/")
    page.locator("#agent_select").click()
    expect(page.get_by_role("option", name="Haiku poet")).to_be_visible()


def test_an_admin_edits_an_expert_and_a_hostile_avatar_is_refused(page: Page, app_url: str):
    open_admin(page, app_url)
    row = page.locator(".ak-catalog-expert[data-name='Customer Advocate']")
    row.locator(".ak-catalog-edit").click()
    page.locator("#catalog_avatar").fill("javascript:alert(1)")
    page.locator("#catalog_save").click()
    expect(page.locator("#catalog_error")).to_contain_text("emoji")
    page.locator("#catalog_avatar").fill("🧑‍💼")
    page.locator("#catalog_color").fill("#22aa88")
    page.locator("#catalog_persona").fill("You speak for the customer, and for the customer's wallet.")
    page.locator("#catalog_save").click()
    expect(page.locator("#catalog_dialog")).to_be_hidden()
    expect(row.locator(".ak-expert-avatar")).to_have_text("🧑‍💼")
    stored = httpx.get(f"{app_url}/api/v1/admin/catalog", headers=admin_headers(app_url)).json()
    expert = next(e for e in stored["experts"] if e["name"] == "Customer Advocate")
    assert (expert["color"], expert["persona"]) == (
        "#22aa88",
        "You speak for the customer, and for the customer's wallet.",
    )
