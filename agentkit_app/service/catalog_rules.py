"""What makes an edit of the catalog acceptable: each check returns the edit, or refuses it saying why.

The checks are pure: they judge one change against the catalog as it is (read in the same transaction
that writes the change), with the tools and models the deployment has.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from agentkit_app.service.errors import Conflict, InvalidInput, NotFound
from agentkit_app.store.catalog import (
    AVATAR_CHARS,
    DESCRIPTION_CHARS,
    LABEL_CHARS,
    MAX_MEMBERS,
    MAX_TOOLS,
    MODEL_CHARS,
    NAME_CHARS,
    PERSONA_CHARS,
    PROMPT_CHARS,
    AgentFields,
    AgentPublic,
    CatalogEdit,
    CatalogSnapshot,
    EntryKind,
    ExpertFields,
    ExpertPublic,
    TemplateFields,
    TemplatePublic,
)

# the limits, for the transports (the web UI's boxes)
__all__ = [
    "DESCRIPTION_CHARS",
    "LABEL_CHARS",
    "MODEL_CHARS",
    "NAME_CHARS",
    "PERSONA_CHARS",
    "PROMPT_CHARS",
    "check_agent",
    "check_delete",
    "check_expert",
    "check_template",
    "checked_avatar",
    "clean_text",
    "is_emoji",
]

# agents and templates are keys (in sessions, URLs and commands): lower-case letters, digits, - and _
KEY_NAME = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{NAME_CHARS - 1}}}")
# experts are named in commands (``@board Strategist,Engineer ...``): letters of any script, digits,
# spaces, dots, apostrophes and hyphens; no comma, @ or colon
EXPERT_NAME = re.compile(rf"[^\W_][\w .'-]{{0,{NAME_CHARS - 1}}}")
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# a picture shipped under assets/ (no scheme, no host, no way up)
ASSET_AVATAR = re.compile(r"/assets/[A-Za-z0-9_-][A-Za-z0-9_./-]{0,150}\.(?:png|jpe?g|gif|svg|webp)")
EMOJI_CHARS = 16
# bidirectional overrides and isolates: they make a name read differently from what it is
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))


def clean_text(value: str) -> str:
    """Return ``value`` without control characters (line breaks and tabs kept), trimmed."""
    return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) != "Cc").strip()


def _capped(value: str, limit: int, what: str) -> str:
    text = clean_text(value)
    if len(text) > limit:
        raise InvalidInput(
            f"{what} has at most {limit} characters", "catalog_err_too_long", field=what, limit=limit
        )
    return text


def _required(value: str, limit: int, what: str) -> str:
    text = _capped(value, limit, what)
    if not text:
        raise InvalidInput(f"{what} cannot be empty", "catalog_err_empty", field=what)
    return text


def is_emoji(value: str) -> bool:
    """Whether ``value`` is a short run of non-ASCII symbols (an emoji, with joiners and modifiers)."""
    return 0 < len(value) <= EMOJI_CHARS and all(
        ord(c) > 127
        and not c.isspace()
        and ord(c) not in _BIDI
        and unicodedata.category(c) not in ("Cc", "Co", "Cn", "Cs", "Zl", "Zp")
        for c in value
    )


def checked_avatar(value: str) -> str:
    """Return the avatar: an emoji, or the path of a picture under ``/assets/``."""
    avatar = value.strip()
    if len(avatar) <= AVATAR_CHARS and (
        is_emoji(avatar) or (ASSET_AVATAR.fullmatch(avatar) and ".." not in avatar)
    ):
        return avatar
    raise InvalidInput(
        "an avatar is an emoji or a picture under /assets/ (such as /assets/experts/owl.png)",
        "catalog_err_avatar",
    )


def _name(name: str, pattern: re.Pattern[str], key: str) -> str:
    if not pattern.fullmatch(name):
        raise InvalidInput(f"invalid name: {name[:NAME_CHARS]!r}", key, name=name[:NAME_CHARS])
    return name


def _existing(
    entries: Collection[AgentPublic | ExpertPublic | TemplatePublic], name: str, *, create: bool
) -> None:
    taken = any(e.name.casefold() == name.casefold() for e in entries)
    if create and taken:
        raise Conflict(f"the name {name} is taken", "catalog_err_taken", name=name)
    if not create and not any(e.name == name for e in entries):
        raise NotFound(f"no such entry: {name}", "catalog_err_missing", name=name)


def check_agent(
    catalog: CatalogSnapshot,
    name: str,
    fields: AgentFields,
    *,
    create: bool,
    tools: Collection[str],
    models: Collection[str],
) -> CatalogEdit:
    """Return the edit that stores agent ``name``.

    Raises:
        InvalidInput: a bad name, an empty or over-long prompt or label, an unknown tool or model, or
            the last enabled agent disabled.
        Conflict: a new agent with a name taken. NotFound: an edit of an unknown agent.
    """
    name = _name(name, KEY_NAME, "catalog_err_agent_name")
    _existing(catalog.agents, name, create=create)
    if len(fields.tools) > MAX_TOOLS:
        raise InvalidInput(f"at most {MAX_TOOLS} tools", "catalog_err_too_many", limit=MAX_TOOLS)
    unknown = [t for t in fields.tools if t not in tools]
    if unknown:
        raise InvalidInput(
            f"unknown tools: {', '.join(unknown)[:200]}", "catalog_err_tool", names=", ".join(unknown)[:200]
        )
    model = _capped(fields.model or "", MODEL_CHARS, "model") or None
    if model is not None and model not in models:
        raise InvalidInput(
            f"unknown model: {model} (known: {', '.join(models)})", "catalog_err_model", name=model
        )
    agent = AgentPublic(
        name=name,
        display_name=_required(fields.display_name, LABEL_CHARS, "display_name"),
        description=_capped(fields.description, DESCRIPTION_CHARS, "description"),
        system_prompt=_required(fields.system_prompt, PROMPT_CHARS, "system_prompt"),
        model=model,
        tools=list(dict.fromkeys(fields.tools)),
        enabled=fields.enabled,
    )
    if not agent.enabled and not any(a.enabled for a in catalog.agents if a.name != name):
        raise InvalidInput("the last agent users can pick cannot be hidden", "catalog_err_last_agent")
    return CatalogEdit("agent", name, agent)


def check_expert(catalog: CatalogSnapshot, name: str, fields: ExpertFields, *, create: bool) -> CatalogEdit:
    """Return the edit that stores expert ``name``.

    Raises:
        InvalidInput: a bad name, avatar or colour, an empty or over-long persona, or the last
            moderator unmarked. Conflict: a new expert with a name taken (in any case).
        NotFound: an edit of an unknown expert.
    """
    name = _name(name.strip(), EXPERT_NAME, "catalog_err_expert_name")
    _existing(catalog.experts, name, create=create)
    if not COLOR.fullmatch(fields.color.strip()):
        raise InvalidInput("a colour is a #hex such as #6366f1", "catalog_err_color")
    expert = ExpertPublic(
        name=name,
        avatar=checked_avatar(fields.avatar),
        color=fields.color.strip().lower(),
        persona=_required(fields.persona, PERSONA_CHARS, "persona"),
        role=_capped(fields.role, NAME_CHARS, "role") or "expert",
        is_moderator=fields.is_moderator,
    )
    if not expert.is_moderator and not any(e.is_moderator for e in catalog.experts if e.name != name):
        raise InvalidInput("a board needs a moderator: keep at least one", "catalog_err_last_moderator")
    return CatalogEdit("expert", name, expert)


def check_template(
    catalog: CatalogSnapshot, name: str, fields: TemplateFields, *, create: bool
) -> CatalogEdit:
    """Return the edit that stores template ``name``.

    Raises:
        InvalidInput: a bad name, no or unknown or repeated members, a team without a lead (or a board
            with one), or a board of moderators only.
        Conflict: a new template with a name taken, or the last template of a kind turned into the other. NotFound: an edit of an unknown template.
    """
    name = _name(name, KEY_NAME, "catalog_err_template_name")
    _existing(catalog.templates, name, create=create)
    by_name = {e.name.casefold(): e for e in catalog.experts}
    lead = (fields.lead or "").strip() or None
    members = [m.strip() for m in fields.experts if m.strip()]
    if fields.kind == "team" and lead is None:
        raise InvalidInput("a team template needs a lead", "catalog_err_no_lead")
    if fields.kind == "board" and lead is not None:
        raise InvalidInput("a board has a moderator, not a lead", "catalog_err_board_lead")
    if not members or len(members) > MAX_MEMBERS:
        raise InvalidInput(
            f"a template has 1 to {MAX_MEMBERS} members", "catalog_err_members", limit=MAX_MEMBERS
        )
    everyone = [lead, *members] if lead else members
    unknown = [m for m in everyone if m.casefold() not in by_name]
    if unknown:
        raise InvalidInput(
            f"unknown experts: {', '.join(unknown)[:200]}",
            "catalog_err_unknown_experts",
            names=", ".join(unknown)[:200],
        )
    if len({m.casefold() for m in everyone}) != len(everyone):
        raise InvalidInput("an expert is named twice", "catalog_err_twice")
    if fields.kind == "board" and all(by_name[m.casefold()].is_moderator for m in members):
        raise InvalidInput(
            "a board needs a member besides the moderator", "catalog_err_members", limit=MAX_MEMBERS
        )
    before = next((t for t in catalog.templates if t.name == name), None)
    if before is not None and before.kind != fields.kind:
        _keep_one_of_kind(catalog, before)
    canonical = [by_name[m.casefold()].name for m in members]
    template = TemplatePublic(
        name=name, kind=fields.kind, lead=by_name[lead.casefold()].name if lead else None, experts=canonical
    )
    return CatalogEdit("template", name, template)


def _keep_one_of_kind(catalog: CatalogSnapshot, template: TemplatePublic) -> None:
    if not any(t.kind == template.kind for t in catalog.templates if t.name != template.name):
        raise Conflict(
            f"the last {template.kind} template must stay", "catalog_err_last_template", kind=template.kind
        )


def check_delete(catalog: CatalogSnapshot, kind: EntryKind, name: str, *, sessions: int = 0) -> CatalogEdit:
    """Return the edit that deletes ``kind``'s entry ``name``.

    Raises:
        NotFound: no such entry.
        Conflict: an agent that sessions use (hide it instead), an expert a template names, the last
            moderator, the last agent users can pick, or the last template of a kind.
    """
    if kind == "agent":
        agent = next((a for a in catalog.agents if a.name == name), None)
        if agent is None:
            raise NotFound(f"no such agent: {name}", "catalog_err_missing", name=name)
        if sessions:
            raise Conflict(
                f"{sessions} conversations use the agent {name}: hide it instead (enabled: false)",
                "catalog_err_agent_in_use",
                count=sessions,
            )
        if agent.enabled and not any(a.enabled for a in catalog.agents if a.name != name):
            raise Conflict("the last agent users can pick cannot be deleted", "catalog_err_last_agent")
    elif kind == "expert":
        expert = next((e for e in catalog.experts if e.name.casefold() == name.casefold()), None)
        if expert is None:
            raise NotFound(f"no such expert: {name}", "catalog_err_missing", name=name)
        users = [t.name for t in catalog.templates if expert.name in (t.lead, *t.experts)]
        if users:
            raise Conflict(
                f"the expert {expert.name} is in the templates {', '.join(users)}: take it out of them first",
                "catalog_err_expert_in_use",
                names=", ".join(users),
            )
        if expert.is_moderator and not any(e.is_moderator for e in catalog.experts if e is not expert):
            raise Conflict("a board needs a moderator: keep at least one", "catalog_err_last_moderator")
        name = expert.name
    else:
        template = next((t for t in catalog.templates if t.name == name), None)
        if template is None:
            raise NotFound(f"no such template: {name}", "catalog_err_missing", name=name)
        _keep_one_of_kind(catalog, template)
    return CatalogEdit(kind, name)
