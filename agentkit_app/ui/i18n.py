"""The web UI's own text, and the one table it reads: the engine's entries and these, in English and Chinese.

The engine's table (:mod:`agentkit_app.engine.i18n`) keeps what the engine and the service say
(answers, refusals); what only the pages say lives here. The UI looks every key up in
:data:`TEXT`, by :func:`tr` (a Var that follows the UI language) or :func:`t` (a string).
"""

from __future__ import annotations

import reflex as rx

from agentkit_app.engine import i18n as engine_i18n
from agentkit_app.service.errors import ServiceError
from agentkit_app.ui.states.prefs import PrefsState

UI_TEXT: dict[str, dict[str, str]] = {
    "app_tagline": {"en": "Multi-agent chat workspace", "zh": "多智能体对话工作台"},
    "new_chat": {"en": "New chat", "zh": "新对话"},
    "group_pinned": {"en": "Pinned", "zh": "已置顶"},
    "delete": {"en": "Delete", "zh": "删除"},
    "restore": {"en": "Restore", "zh": "恢复"},
    "demo_badge": {"en": "offline demo model", "zh": "离线演示模型"},
    "delete_title": {"en": "Delete this conversation?", "zh": "删除这个会话？"},
    "delete_body": {
        "en": "and all its messages will be deleted for good. This cannot be undone.",
        "zh": "及其全部消息将被永久删除，无法恢复。",
    },
    "busy": {"en": "Still writing", "zh": "仍在生成"},
    "pin": {"en": "Pin", "zh": "置顶"},
    "unpin": {"en": "Unpin", "zh": "取消置顶"},
    "group_today": {"en": "Today", "zh": "今天"},
    "group_yesterday": {"en": "Yesterday", "zh": "昨天"},
    "group_week": {"en": "Previous 7 days", "zh": "过去 7 天"},
    "group_older": {"en": "Older", "zh": "更早"},
    "group_archived": {"en": "Archived", "zh": "已归档"},
    "show_more": {"en": "Show more", "zh": "显示更多"},
    "no_sessions": {"en": "No conversations yet. Start one!", "zh": "还没有会话，开始一个吧！"},
    "badge_board": {"en": "Board", "zh": "私董会"},
    "badge_team": {"en": "Team", "zh": "团队"},
    "close_session": {"en": "Close", "zh": "关闭"},
    "composer_placeholder": {
        "en": "Message the agent… (Enter to send, Shift+Enter for a new line; @board, @team, @skill:)",
        "zh": "给智能体发消息…（Enter 发送，Shift+Enter 换行；支持 @board、@team、@skill:）",
    },
    "send": {"en": "Send", "zh": "发送"},
    "stop": {"en": "Stop", "zh": "停止"},
    "attach": {"en": "Attach file", "zh": "附加文件"},
    "file_too_large": {"en": "larger than the {limit} upload limit", "zh": "超过了 {limit} 的上传上限"},
    "too_many_files": {"en": "at most {n} files at a time", "zh": "一次最多 {n} 个文件"},
    "file_refused": {"en": "cannot be attached", "zh": "无法附加"},
    "stopped": {"en": "stopped", "zh": "已停止"},
    "demo_notice": {
        "en": "Offline demo model: no LLM endpoint is configured, answers are canned and deterministic.",
        "zh": "离线演示模型：未配置大模型接口，回答为预设的确定性内容。",
    },
    "confirm_title": {"en": "Allow this command?", "zh": "允许执行此命令吗？"},
    "approve": {"en": "Approve", "zh": "批准"},
    "deny": {"en": "Deny", "zh": "拒绝"},
    "expires": {"en": "Counts as denied", "zh": "超时视为拒绝"},
    "question_title": {"en": "The agent asks", "zh": "智能体提问"},
    "answer_placeholder": {"en": "Your answer…", "zh": "您的回答…"},
    "denied": {"en": "denied", "zh": "已拒绝"},
    "waiting": {"en": "waiting", "zh": "等待中"},
    "welcome_title": {"en": "Welcome to AgentKit", "zh": "欢迎使用 AgentKit"},
    "welcome_body": {
        "en": "Pick an agent and start a new chat. Ask it anything, let it run commands with your approval, "
        "convene a board of experts with @board, or hand a task to a team with @team.",
        "zh": "选择一个智能体并开始新对话。可以随意提问、在您批准后让它运行命令，用 @board 召集专家私董会，或用 @team 把任务交给团队。",
    },
    "starters": {"en": "Or start with one of these", "zh": "或者从这里开始"},
    "starter_tool_title": {"en": "Use a tool", "zh": "调用工具"},
    "starter_tool": {"en": "what is (3 + 4) * 12?", "zh": "(3 + 4) * 12 等于多少？"},
    "starter_shell_title": {"en": "Run a command, with your approval", "zh": "运行命令（需您批准）"},
    "starter_shell": {"en": "run `uname -a`", "zh": "运行 `uname -a`"},
    "starter_board_title": {"en": "Convene a board of experts", "zh": "召开专家私董会"},
    "starter_board": {"en": "@board should we open a second shop?", "zh": "@board 我们要不要开第二家店？"},
    "starter_team_title": {"en": "Hand a task to a team", "zh": "把任务交给团队"},
    "starter_team": {"en": "@team build a landing page for a bakery", "zh": "@team 为一家面包店做一个落地页"},
    "err_no_confirmation": {"en": "Nothing is waiting for your approval.", "zh": "没有等待您批准的操作。"},
    "quota_requests": {"en": "requests", "zh": "请求次数"},
    "quota_tokens": {"en": "tokens", "zh": "token 数"},
    "period_day": {"en": "day", "zh": "日"},
    "period_month": {"en": "month", "zh": "月"},
    "board_topic": {"en": "Board meeting", "zh": "私董会"},
    "speaking": {"en": "speaking", "zh": "发言中"},
    "team_title": {"en": "Team run", "zh": "团队协作"},
    "copy": {"en": "Copy", "zh": "复制"},
    "resume": {"en": "Resume", "zh": "继续运行"},
    "interrupted": {
        "en": "This team run was interrupted when the server stopped.",
        "zh": "服务器停止时该团队任务被中断。",
    },
    "export": {"en": "Export", "zh": "导出"},
    "export_md": {"en": "Markdown (.md)", "zh": "Markdown（.md）"},
    "export_json": {"en": "JSON (.json)", "zh": "JSON（.json）"},
    "search": {"en": "Search conversations (Ctrl+K)", "zh": "搜索会话（Ctrl+K）"},
    "search_none": {"en": "No matches.", "zh": "没有匹配的结果。"},
    "rename": {"en": "Rename", "zh": "重命名"},
    "previous_version": {"en": "Previous version", "zh": "上一个版本"},
    "theme": {"en": "Light or dark", "zh": "浅色或深色"},
    "next_version": {"en": "Next version", "zh": "下一个版本"},
    "sessions_menu": {"en": "Conversations", "zh": "会话列表"},
    "save": {"en": "Save", "zh": "保存"},
    "regenerate": {"en": "Regenerate", "zh": "重新生成"},
    "copy_answer": {"en": "Copy answer", "zh": "复制回答"},
    "copied": {"en": "Copied", "zh": "已复制"},
    "stop_hint": {"en": "Stop the answer (Esc)", "zh": "停止回答（Esc）"},
    "join_placeholder": {
        "en": "Add to the discussion: the next speaker or phase reads your message",
        "zh": "参与讨论：下一位发言者或下一阶段会读到你的消息",
    },
    "read_attached": {"en": "Please read the attached file.", "zh": "请阅读附件。"},
    "jump_latest": {"en": "Jump to latest", "zh": "回到最新"},
    "edit": {"en": "Edit and resend", "zh": "编辑并重新发送"},
    "plan_exec_hint": {
        "en": "Answer in phases: plan, execute, verify, answer; each phase may use only its tools",
        "zh": "分阶段回答：规划、执行、验证、回答；每个阶段只能使用它允许的工具",
    },
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_out": {"en": "Sign out", "zh": "退出登录"},
    "username": {"en": "User name", "zh": "用户名"},
    "password": {"en": "Password", "zh": "密码"},
    "sign_in_body": {"en": "Sign in to your AgentKit workspace.", "zh": "登录您的 AgentKit 工作空间。"},
    "login_missing": {"en": "Enter your user name and password.", "zh": "请输入用户名和密码。"},
    "login_failed": {"en": "Wrong user name or password.", "zh": "用户名或密码错误。"},
    "admin_title": {"en": "Administration", "zh": "系统管理"},
    "admin_departments": {"en": "Departments", "zh": "部门"},
    "admin_users": {"en": "Users", "zh": "用户"},
    "admin_dept_name": {"en": "Department name", "zh": "部门名称"},
    "admin_dept_create": {"en": "Add department", "zh": "添加部门"},
    "admin_no_departments": {"en": "No departments yet.", "zh": "还没有部门。"},
    "admin_no_users": {"en": "No users yet.", "zh": "还没有用户。"},
    "admin_col_name": {"en": "Name", "zh": "名称"},
    "admin_col_role": {"en": "Role", "zh": "角色"},
    "admin_col_department": {"en": "Department", "zh": "部门"},
    "admin_col_status": {"en": "Status", "zh": "状态"},
    "admin_requests_today": {"en": "Requests today", "zh": "今日请求"},
    "admin_tokens_today": {"en": "Tokens today", "zh": "今日 token"},
    "admin_requests_month": {"en": "Requests this month", "zh": "本月请求"},
    "admin_tokens_month": {"en": "Tokens this month", "zh": "本月 token"},
    "admin_usage_hint": {
        "en": "Used / limit in the current UTC day and month; ∞ means no limit.",
        "zh": "当前 UTC 日与月的用量 / 上限；∞ 表示不限。",
    },
    "admin_quotas": {"en": "Quotas", "zh": "配额"},
    "admin_quotas_of": {"en": "Quotas of", "zh": "配额："},
    "admin_quota_hint": {
        "en": "Whole numbers; leave a box empty for no limit.",
        "zh": "请填写整数；留空表示不限。",
    },
    "admin_tokens_per_day": {"en": "Tokens per day", "zh": "每日 token"},
    "admin_tokens_per_month": {"en": "Tokens per month", "zh": "每月 token"},
    "admin_requests_per_day": {"en": "Requests per day", "zh": "每日请求"},
    "admin_requests_per_month": {"en": "Requests per month", "zh": "每月请求"},
    "admin_user_create": {"en": "Add user", "zh": "添加用户"},
    "admin_password_hint": {"en": "Password (at least 8 characters)", "zh": "密码（至少 8 个字符）"},
    "admin_role_user": {"en": "User", "zh": "普通用户"},
    "admin_role_admin": {"en": "Admin", "zh": "管理员"},
    "admin_no_department": {"en": "No department", "zh": "无部门"},
    "admin_active": {"en": "Active", "zh": "正常"},
    "admin_disabled": {"en": "Disabled", "zh": "已停用"},
    "admin_disable": {"en": "Disable", "zh": "停用"},
    "admin_enable": {"en": "Enable", "zh": "启用"},
    "admin_you": {"en": "you", "zh": "您"},
    "admin_col_shell": {"en": "Shell", "zh": "Shell 工具"},
    "admin_shell_hint": {
        "en": "Shell: whether the department's users may run the sandboxed shell tool (admins always may).",
        "zh": "Shell 工具：该部门的用户是否可以使用沙箱中的 shell 工具（管理员始终可以）。",
    },
    "admin_err_self_disable": {"en": "You cannot disable your own account.", "zh": "不能停用自己的账号。"},
    "run_usage": {
        "en": "Tokens and model time of every model call in this run",
        "zh": "本次运行中所有模型调用的 token 数与模型耗时",
    },
}

TEXT: dict[str, dict[str, str]] = {**engine_i18n.TEXT, **UI_TEXT}


def t(key: str, language: str = "en", **values: object) -> str:
    """Return the text for a key in a language (English when the language is unknown)."""
    entry = TEXT[key]
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text


def tr(key: str) -> rx.Var:
    """Return the text for ``key`` in the UI's current language."""
    entry = TEXT[key]
    return rx.cond(PrefsState.lang == "zh", entry["zh"], entry["en"])


def round_label(number: rx.Var | int, total: rx.Var | int | None = None) -> rx.Component:
    """ "Round 2" / "第 2 轮", or with the total "Round 2 of 5" / "第 2 / 5 轮"."""
    if total is None:
        return rx.cond(
            PrefsState.lang == "zh", rx.fragment("第 ", number, " 轮"), rx.fragment("Round ", number)
        )
    return rx.cond(
        PrefsState.lang == "zh",
        rx.fragment("第 ", number, " / ", total, " 轮"),
        rx.fragment("Round ", number, " of ", total),
    )


def error_text(exc: ServiceError, lang: str) -> str:
    """Return what the service refused, in ``lang`` when the error has an i18n entry (else its English message)."""
    lang = lang if lang in ("en", "zh") else "en"
    entry = TEXT.get(exc.key or "")
    if entry is None:
        return str(exc)
    params = dict(exc.params)
    if exc.key == "err_quota":  # the quota's kind and period, in words of the same language
        params["what"] = TEXT.get(f"quota_{params.get('quota_type')}", {}).get(lang, params.get("quota_type"))
        params["per"] = TEXT.get(f"period_{params.get('period')}", {}).get(lang, params.get("period"))
    try:
        return entry[lang].format(**params)
    except (KeyError, IndexError, ValueError):
        return str(exc)


async def refuse(state: rx.State, exc: ServiceError) -> rx.event.EventSpec:
    """Return the toast that tells the user, in their language, what the service refused."""
    lang = (await state.get_state(PrefsState)).lang
    return rx.toast.error(error_text(exc, lang))
