"""The admin page's checks of typed input (the service's account rules), as pure functions (no browser)."""

from __future__ import annotations

import pytest

from agentkit_app.service.accounts import (
    _store_errors,
    check_password,
    clean_department_name,
    clean_username,
    parse_limit,
    quotas_from_boxes,
    user_from_form,
)
from agentkit_app.service.errors import Conflict, InvalidInput, NotFound
from agentkit_app.store.accounts import AccountConflict, UnknownDepartment
from agentkit_app.store.models import DepartmentPublic
from agentkit_app.ui.i18n import TEXT
from agentkit_app.ui.states.admin import ERROR_KEYS, _department_row, usage_text


def refused(fn, *args) -> str:
    with pytest.raises(InvalidInput) as info:
        fn(*args)
    return info.value.key


def test_every_error_has_text_in_both_languages():
    assert all(TEXT[key]["en"] and TEXT[key]["zh"] for key in ERROR_KEYS)


def test_department_names_are_collapsed_and_must_not_be_blank_or_too_long():
    assert clean_department_name("  North   Sales ") == "North Sales"
    assert refused(clean_department_name, "   ") == "admin_err_dept_name"
    assert refused(clean_department_name, "x" * 101) == "admin_err_dept_name"


def test_user_names_follow_the_rest_api_pattern():
    assert clean_username(" ann.lee@corp ") == "ann.lee@corp"
    for bad in ("", "ann lee", "ann/lee", "a" * 65):
        assert refused(clean_username, bad) == "admin_err_user_name"


def test_passwords_need_8_to_256_characters():
    assert check_password("12345678") == "12345678"
    assert refused(check_password, "1234567") == "admin_err_password"
    assert refused(check_password, "x" * 257) == "admin_err_password"


def test_limits_are_whole_numbers_or_empty_for_none():
    assert parse_limit(" 42 ") == 42
    assert parse_limit("0") == 0
    assert parse_limit("  ") is None
    for bad in ("-1", "1.5", "ten", "1e3", "１２"):
        assert refused(parse_limit, bad) == "admin_err_number"


def test_quotas_come_from_the_filled_boxes_only():
    quotas = quotas_from_boxes(
        {("requests", "day"): "5", ("tokens", "month"): "20000", ("tokens", "day"): ""}
    )
    assert [(q.quota_type, q.period, q.limit) for q in quotas] == [
        ("tokens", "month", 20000),
        ("requests", "day", 5),
    ]
    assert refused(quotas_from_boxes, {("requests", "month"): "x"}) == "admin_err_number"


def test_usage_text_shows_infinity_without_a_limit():
    assert usage_text(1234, None) == "1,234 / ∞"
    assert usage_text(3, 10) == "3 / 10"


def test_a_department_row_carries_its_shell_switch_and_usage():
    day = {
        "requests": 3,
        "total_tokens": 120,
        "quotas": [{"quota_type": "requests", "period": "day", "limit": 3, "current": 3}],
    }
    month = {"requests": 3, "total_tokens": 120, "quotas": []}
    on = _department_row(DepartmentPublic(department_id="d1", name="Eng", shell_enabled=True), day, month)
    off = _department_row(DepartmentPublic(department_id="d2", name="Ops"), day, month)
    assert (on.shell_enabled, off.shell_enabled) == (True, False)
    assert (on.department_id, on.name, on.day_requests, on.over) == ("d1", "Eng", "3 / 3", True)
    assert all(TEXT[key]["en"] and TEXT[key]["zh"] for key in ("admin_col_shell", "admin_shell_hint"))


def test_the_user_form_is_checked_role_first_then_field_by_field():
    assert refused(user_from_form, "bad name", "short", "owner", None) == "admin_err_role"
    assert refused(user_from_form, "bad name", "short", "user", None) == "admin_err_user_name"
    assert refused(user_from_form, "ann", "short", "user", None) == "admin_err_password"
    new = user_from_form(" ann ", "12345678", "admin", "d1")
    assert (new.username, new.role, new.department_id) == ("ann", "admin", "d1")


def test_a_limit_too_big_to_store_is_refused_as_a_number():
    assert refused(quotas_from_boxes, {("tokens", "day"): "9" * 12}) == "admin_err_number"


def test_the_account_stores_refusals_become_service_errors_with_their_keys():
    with pytest.raises(Conflict) as conflict, _store_errors("admin_err_dept_exists"):
        raise AccountConflict("department name taken")
    with pytest.raises(NotFound) as missing, _store_errors():
        raise UnknownDepartment("d9")
    with pytest.raises(InvalidInput) as invalid, _store_errors():
        raise ValueError("two quotas of the same type and period")
    assert (conflict.value.status, conflict.value.key, str(conflict.value)) == (
        409,
        "admin_err_dept_exists",
        "department name taken",
    )
    assert (missing.value.status, missing.value.key, str(missing.value)) == (
        404,
        "admin_err_unknown_dept",
        "department not found",
    )
    assert (invalid.value.status, invalid.value.key) == (422, "admin_err_failed")
