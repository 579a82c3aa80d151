"""The admin page in a real browser: departments, quotas and users, and who may open it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_headers, sign_in

pytestmark = pytest.mark.browser


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def open_admin(page: Page, app_url: str) -> None:
    """Sign in as the admin and open the admin page through the header link."""
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    page.locator("#admin_link").click()
    page.wait_for_url("**/admin")
    page.locator("#admin_page").wait_for()


def create_department(page: Page, name: str) -> None:
    page.locator("#dept_name_input").fill(name)
    page.locator("#dept_create").click()


def test_admin_creates_a_department_with_a_request_limit_and_a_user_in_it(page: Page, app_url: str):
    open_admin(page, app_url)
    dept = unique("ops")
    create_department(page, dept)
    row = page.locator(".ak-admin-dept", has_text=dept)
    expect(row).to_be_visible()
    expect(page.locator("#dept_name_input")).to_have_value("")
    expect(row.locator(".ak-admin-day-requests")).to_have_text("0 / ∞")

    row.locator(".ak-admin-dept-quotas").click()
    expect(page.locator("#quota_dept_name")).to_have_text(dept)
    page.locator("#quota_requests_day").fill("five")
    page.locator("#quota_tokens_month").fill("20000")
    page.locator("#quota_save").click()
    expect(page.locator("#admin_error")).to_contain_text("whole numbers")
    expect(page.locator("#quota_requests_day")).to_have_value("five")
    expect(page.locator("#quota_tokens_month")).to_have_value("20000")
    page.locator("#quota_requests_day").fill("5")
    page.locator("#quota_save").click()
    expect(page.locator("#quota_editor")).to_be_hidden()
    expect(row.locator(".ak-admin-day-requests")).to_have_text("0 / 5")
    expect(row.locator(".ak-admin-month-tokens")).to_have_text("0 / 20,000")
    expect(row.locator(".ak-admin-month-requests")).to_have_text("0 / ∞")
    stored = httpx.get(f"{app_url}/api/v1/admin/departments", headers=admin_headers(app_url)).json()
    quotas = next(d["quotas"] for d in stored if d["name"] == dept)
    assert sorted((q["quota_type"], q["period"], q["limit"]) for q in quotas) == [
        ("requests", "day", 5),
        ("tokens", "month", 20000),
    ]

    name = unique("bob")
    page.locator("#user_name_input").fill(name)
    page.locator("#user_password_input").fill("short")
    page.locator("#user_dept_select").click()
    page.get_by_role("option", name=dept).click()
    page.locator("#user_create").click()
    expect(page.locator("#admin_error")).to_contain_text("8 to 256")
    expect(page.locator("#user_name_input")).to_have_value(name)
    expect(page.locator("#user_dept_select")).to_contain_text(dept)
    page.locator("#user_password_input").fill("bob-password-1")
    page.locator("#user_create").click()
    user = page.locator(".ak-admin-user", has_text=name)
    expect(user).to_be_visible()
    expect(page.locator("#admin_error")).to_have_count(0)
    expect(page.locator("#user_name_input")).to_have_value("")
    expect(user.locator(".ak-admin-user-dept")).to_have_text(dept)
    expect(user.locator(".ak-admin-user-role")).to_have_text("User")
    login = {"username": name, "password": "bob-password-1"}
    assert httpx.post(f"{app_url}/api/v1/auth/login", json=login).status_code == 200

    user.locator(".ak-admin-user-toggle").click()
    expect(user).to_have_attribute("data-disabled", "true")
    assert httpx.post(f"{app_url}/api/v1/auth/login", json=login).status_code == 401
    user.locator(".ak-admin-user-toggle").click()
    expect(user).to_have_attribute("data-disabled", "false")
    assert httpx.post(f"{app_url}/api/v1/auth/login", json=login).status_code == 200


def test_a_taken_department_name_is_refused_and_stays_in_the_box(page: Page, app_url: str):
    open_admin(page, app_url)
    dept = unique("sales")
    create_department(page, dept)
    expect(page.locator(".ak-admin-dept", has_text=dept)).to_be_visible()
    create_department(page, dept)
    expect(page.locator("#admin_error")).to_contain_text("exists already")
    expect(page.locator("#dept_name_input")).to_have_value(dept)
    expect(page.locator(".ak-admin-dept", has_text=dept)).to_have_count(1)
    create_department(page, "   ")
    expect(page.locator("#admin_error")).to_contain_text("Enter a department name")


def test_only_a_signed_in_admin_may_open_the_admin_page(browser, app_url: str):
    name = unique("carol")
    created = httpx.post(
        f"{app_url}/api/v1/admin/users",
        json={"username": name, "password": "carol-password-1", "role": "user"},
        headers=admin_headers(app_url),
    )
    assert created.status_code == 201, created.text

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{app_url}/admin")
    page.wait_for_url("**/login")
    sign_in(page, app_url, name, "carol-password-1")
    expect(page.locator("#signed_in_user")).to_contain_text(name)
    expect(page.locator("#admin_link")).to_have_count(0)
    page.goto(f"{app_url}/admin")
    page.wait_for_url(f"{app_url}/")
    expect(page.locator("#landing_composer")).to_be_visible()
    expect(page.locator("#admin_page")).to_have_count(0)
    context.close()
