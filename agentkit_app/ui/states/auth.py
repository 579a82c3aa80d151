"""Signing in to the web UI when accounts are on (``AGENTKIT_AUTH_ENABLED``).

The UI calls the service in-process; with accounts on it keeps the user's token in the
browser's local storage and turns it into a :class:`Principal` for every action, so a
changed role or a disabled account applies at once. With accounts off everybody is the
anonymous principal and no page asks to sign in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import reflex as rx

from agentkit_app.service.access import Principal
from agentkit_app.service.errors import ServiceError, Unauthorized
from agentkit_app.service.runtime import get_service
from agentkit_app.ui.i18n import refuse

LOGIN_ROUTE = "/login"
# where the sign-in page may send the user back to (``?next=``): a shared conversation's page only,
# so the parameter cannot send anyone elsewhere
_RETURN_TO = re.compile(r"/share/[A-Za-z0-9_-]{1,64}")


def after_sign_in(state: rx.State) -> str:
    """Return the page to open once signed in: the sign-in page's ``?next=`` if it is a shared page, else home."""
    wanted = state.router.url.query_parameters.get("next", "")
    return wanted if _RETURN_TO.fullmatch(wanted) else "/"


P = ParamSpec("P")
S = TypeVar("S", bound=rx.State)


class SignInRequired(Exception):
    """The browser has no valid sign-in (any more): raised by :func:`signed_in`, answered by :func:`guarded`."""


class AdminRequired(Exception):
    """The signed-in user is not an admin: raised by ``signed_in(admin=True)``, answered by :func:`guarded`."""


def guarded(
    handler: Callable[Concatenate[S, P], Awaitable[Any]],
) -> Callable[Concatenate[S, P], Awaitable[Any]]:
    """Let an event handler end the same way as every other when the user is turned away.

    A lost sign-in (:class:`SignInRequired`) sends the browser to the sign-in page, a user who is
    not an admin (:class:`AdminRequired`) home; anything the service refuses
    (:class:`ServiceError`) becomes a toast in the user's language. Put it under
    ``@rx.event``; ``functools.wraps`` keeps the signature and type hints Reflex reads the
    handler's arguments from.
    """

    @functools.wraps(handler)
    async def run(state: S, *args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return await handler(state, *args, **kwargs)
        except SignInRequired:
            return rx.redirect(LOGIN_ROUTE)
        except AdminRequired:
            return rx.redirect("/")
        except ServiceError as exc:
            return await refuse(state, exc)

    return run


class AuthState(rx.State):
    """Who is signed in to this browser."""

    token: str = rx.LocalStorage("", name="agentkit_token", sync=True)
    username: str = ""
    role: str = ""
    auth_enabled: bool = False
    login_error: str = ""

    @rx.event
    async def check(self):
        """On every protected page: send a visitor without a valid sign-in to the sign-in page."""
        access = get_service().access
        self.auth_enabled = access.enabled
        if not access.enabled:
            return
        try:
            principal = await access.principal_for_web(self.token)
        except Unauthorized:
            self.username = self.role = ""
            return rx.redirect(LOGIN_ROUTE)
        self.username, self.role = principal.username or "", principal.role

    @rx.event
    async def open_login(self):
        """On the sign-in page: go home when accounts are off or the user is signed in already."""
        access = get_service().access
        self.auth_enabled = access.enabled
        if not access.enabled:
            return rx.redirect("/")
        try:
            await access.principal_for_web(self.token)
        except Unauthorized:
            return
        return rx.redirect(after_sign_in(self))

    @rx.event
    @guarded
    async def login(self, form_data: dict):
        """Check the user name and password; keep the token and go to the conversations."""
        username = str(form_data.get("username") or "").strip()
        password = str(form_data.get("password") or "")
        if not username or not password:
            self.login_error = "login_missing"
            return
        # the peer of the browser's socket (behind a proxy: the proxy, unless Reflex's
        # trusted_proxy_hops says how many X-Forwarded-For entries to believe)
        address = self.router.session.client_ip or None
        self.login_error = ""  # too many attempts, or sign-in unavailable: said in a toast by @guarded
        try:
            token, user = await get_service().access.authenticate(username, password, address)
        except Unauthorized:
            self.login_error = "login_failed"
            return
        self.token, self.username, self.role = token, user.username, user.role
        return rx.redirect(after_sign_in(self))

    @rx.event
    def logout(self):
        """Forget the token in this browser and show the sign-in page."""
        self.token, self.username, self.role = "", "", ""
        return rx.redirect(LOGIN_ROUTE)


async def current_principal(state: rx.State) -> Principal | None:
    """Return the principal of the browser behind ``state``, or None when it must sign in (again)."""
    auth = await state.get_state(AuthState)
    try:
        return await get_service().access.principal_for_web(auth.token)
    except Unauthorized:
        return None


async def signed_in(state: rx.State, *, admin: bool = False) -> Principal:
    """Return the principal of the browser behind ``state``.

    Raises:
        SignInRequired: the browser must sign in (again).
        AdminRequired: ``admin`` is asked for and the principal is not a signed-in admin.
    """
    principal = await current_principal(state)
    if principal is None:
        raise SignInRequired
    if admin and principal.role != "admin":
        raise AdminRequired
    return principal
