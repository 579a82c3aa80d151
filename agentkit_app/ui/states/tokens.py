"""Personal API tokens in the web UI: a user's own on the tokens page, everyone's in the admin page's section.

The page calls the service in-process, as ``/api/v1/auth/tokens`` does, with the same input model. A
token just made is kept in :attr:`TokensState.new_token` only until the user dismisses it or leaves
the page: after that nobody, the user included, can see it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import reflex as rx
from pydantic import ValidationError

from agentkit_app.service.access import AccessControl, enabled_access
from agentkit_app.service.errors import AccountsDisabled
from agentkit_app.service.runtime import get_service
from agentkit_app.service.tokens import TokenCreate
from agentkit_app.store.models import ApiTokenPublic, utcnow
from agentkit_app.ui.i18n import t
from agentkit_app.ui.states.auth import AdminRequired, guarded, signed_in
from agentkit_app.ui.states.prefs import PrefsState

# the expiries offered (days; "never": none), the first one chosen unless the user picks another
EXPIRY_CHOICES = ("90", "30", "7", "365", "never")


@dataclass
class TokenRow:
    """A token as a table shows it: never its secret."""

    token_id: str = ""
    prefix: str = ""
    name: str = ""
    username: str = ""
    created: str = ""
    last_used: str = ""  # "" never used
    expires: str = ""  # "" never expires
    expired: bool = False


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def token_row(token: ApiTokenPublic, now: datetime) -> TokenRow:
    """Return the table row of a token (``now`` tells whether it has expired)."""
    return TokenRow(
        token_id=token.token_id,
        prefix=token.prefix,
        name=token.name,
        username=token.username,
        created=_when(token.created_at),
        last_used=_when(token.last_used_at),
        expires=_when(token.expires_at),
        expired=token.expires_at is not None and token.expires_at <= now,
    )


class TokensState(rx.State):
    """The user's tokens, the form that makes one, the one just made, and (admins) everyone's tokens."""

    rows: list[TokenRow] = []
    all_rows: list[TokenRow] = []
    name: str = ""
    expiry: str = EXPIRY_CHOICES[0]
    new_token: str = ""
    # the i18n key of the form's last refusal
    error: str = ""

    async def _owner(self) -> tuple[AccessControl, str]:
        """Return the access control and the signed-in user (raises what ``signed_in`` and ``token_owner`` raise)."""
        principal = await signed_in(self)
        access = enabled_access(get_service().access)
        return access, access.token_owner(principal, creating=True)

    async def _read_own(self, access: AccessControl, owner: str) -> None:
        now = utcnow()
        self.rows = [token_row(t, now) for t in await access.tokens.list(owner)]

    @rx.event
    @guarded
    async def load(self):
        """On opening the tokens page: the user's tokens, and no secret left from an earlier visit."""
        self.new_token, self.error = "", ""
        try:
            access, owner = await self._owner()
        except AccountsDisabled:
            return rx.redirect("/")
        await self._read_own(access, owner)

    @rx.event
    def set_name(self, value: str):
        """Keep the name as typed."""
        self.name = value[:200]

    @rx.event
    def set_expiry(self, value: str):
        """Keep the expiry chosen (anything not offered: the first choice)."""
        self.expiry = value if value in EXPIRY_CHOICES else EXPIRY_CHOICES[0]

    @rx.event
    @guarded
    async def create(self, form_data: dict):
        """Make a token with the name and expiry in the form, and show it (this once)."""
        access, owner = await self._owner()
        days = None if self.expiry == "never" else int(self.expiry)
        try:
            new = TokenCreate(name=str(form_data.get("token_name", self.name)), expires_in_days=days)
        except ValidationError:
            self.error = "tokens_err_name"
            return
        made = await access.tokens.create(owner, new)
        self.new_token, self.name, self.error = made.token, "", ""
        await self._read_own(access, owner)

    @rx.event
    def dismiss(self):
        """Forget the token just made: it cannot be shown again."""
        self.new_token = ""

    @rx.event
    @guarded
    async def revoke(self, token_id: str):
        """Revoke one of the user's tokens: it stops working at once."""
        access, owner = await self._owner()
        try:
            await access.tokens.revoke(token_id, owner)
        finally:
            await self._read_own(access, owner)
        return rx.toast.success(await self._text("tokens_revoked"), duration=2000)

    async def _admin_access(self) -> AccessControl:
        try:
            principal = await signed_in(self, admin=True)
            access = enabled_access(get_service().access)
        except AccountsDisabled as exc:
            raise AdminRequired from exc
        access.require_admin(principal)
        return access

    async def _read_all(self, access: AccessControl) -> None:
        now = utcnow()
        self.all_rows = [token_row(t, now) for t in await access.tokens.list()]

    @rx.event
    @guarded
    async def load_all(self):
        """On opening the admin page: every user's tokens."""
        await self._read_all(await self._admin_access())

    @rx.event
    @guarded
    async def revoke_any(self, token_id: str):
        """Revoke any user's token (admins)."""
        access = await self._admin_access()
        try:
            await access.tokens.revoke(token_id)
        finally:
            await self._read_all(access)
        return rx.toast.success(await self._text("tokens_revoked"), duration=2000)

    async def _text(self, key: str) -> str:
        return t(key, (await self.get_state(PrefsState)).lang)
