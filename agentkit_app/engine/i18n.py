"""The one table of user-visible text, in English and Simplified Chinese."""

from __future__ import annotations

import re

LANGUAGES = ("en", "zh")

TEXT: dict[str, dict[str, str]] = {
    "empty_answer": {
        "en": "The model returned nothing this time. Please try again or rephrase your message.",
        "zh": "模型这次没有返回任何内容，请重试或换个说法。",
    },
    "emergency_answer": {
        "en": "Sorry, the language model is unavailable right now. Your message is saved; please try again shortly.",
        "zh": "抱歉，语言模型暂时不可用。您的消息已保存，请稍后重试。",
    },
    "tool_denied": {"en": "The user denied this command.", "zh": "用户拒绝了此命令。"},
    "no_answer": {"en": "(the user gave no answer)", "zh": "（用户没有回答）"},
    "step_limit": {
        "en": "I stopped after {n} tool steps without a final answer.",
        "zh": "已执行 {n} 个工具步骤，仍未得到最终答案，已停止。",
    },
    "confirm_reason": {
        "en": "The agent wants to run a shell command.",
        "zh": "智能体想要运行一条 shell 命令。",
    },
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
    "closed": {"en": "closed", "zh": "已关闭"},
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
    "answer": {"en": "Answer", "zh": "回答"},
    "tool": {"en": "Tool", "zh": "工具"},
    "thinking": {"en": "Thinking", "zh": "思考"},
    "arguments": {"en": "Arguments", "zh": "参数"},
    "result": {"en": "Result", "zh": "结果"},
    "approved": {"en": "approved", "zh": "已批准"},
    "denied": {"en": "denied", "zh": "已拒绝"},
    "running": {"en": "running", "zh": "进行中"},
    "waiting": {"en": "waiting", "zh": "等待中"},
    "done": {"en": "done", "zh": "已完成"},
    "failed": {"en": "failed", "zh": "失败"},
    "skill": {"en": "Skill", "zh": "技能"},
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
    "not_board_command": {"en": "not a board command", "zh": "这不是私董会命令"},
    "board_no_topic": {
        "en": "a board meeting needs a topic, e.g. @board how will AI change retail",
        "zh": "私董会需要一个议题，例如：@board AI 将如何改变零售业",
    },
    "board_rounds_number": {
        "en": "rounds must be a whole number, not '{value}'",
        "zh": "轮数必须是整数，而不是“{value}”",
    },
    "board_rounds_range": {
        "en": "rounds must be between 1 and {most}, not {rounds}",
        "zh": "轮数必须在 1 到 {most} 之间，而不是 {rounds}",
    },
    "board_needs_experts": {
        "en": "a board meeting needs at least one expert and a moderator",
        "zh": "私董会至少需要一位专家和一位主持人",
    },
    "not_team_command": {"en": "not a team command", "zh": "这不是团队命令"},
    "team_no_task": {"en": "a team task needs a description", "zh": "团队任务需要一段描述"},
    "unknown_experts": {"en": "unknown experts: {names}", "zh": "未知的专家：{names}"},
    "session_missing": {"en": "This conversation does not exist.", "zh": "该会话不存在。"},
    "err_busy": {
        "en": "An answer is still being written here: wait for it or stop it first.",
        "zh": "这里还有回答正在生成：请等它结束或先停止它。",
    },
    "err_empty": {"en": "Write a message first.", "zh": "请先输入消息。"},
    "err_too_long": {
        "en": "The message is longer than {limit} characters.",
        "zh": "消息超过了 {limit} 个字符。",
    },
    "err_attachment": {
        "en": "The attachment {name} is not one of your uploads: attach it again.",
        "zh": "附件 {name} 不在您的上传文件中，请重新附加。",
    },
    "err_regenerate": {
        "en": "Only the last answer of a chat can be regenerated.",
        "zh": "只能重新生成对话中的最后一个回答。",
    },
    "err_no_checkpoint": {
        "en": "The interrupted team run left no checkpoint to resume from.",
        "zh": "中断的团队任务没有留下可恢复的检查点。",
    },
    "err_no_interrupted": {
        "en": "There is no interrupted team run here.",
        "zh": "这里没有被中断的团队任务。",
    },
    "err_title_blank": {"en": "A title cannot be blank.", "zh": "标题不能为空。"},
    "err_title_long": {"en": "A title has at most {limit} characters.", "zh": "标题最多 {limit} 个字符。"},
    "err_quota": {
        "en": "Quota exceeded: your department has used {current} of its {limit} {what} this {per}. An admin can raise the limit.",
        "zh": "额度已用完：您所在部门本{per}的{what}已用 {current}，上限 {limit}。管理员可以提高上限。",
    },
    "err_quota_check": {
        "en": "Your quota could not be checked, so nothing was sent. Try again in a moment.",
        "zh": "无法核对您的额度，消息未发送。请稍后再试。",
    },
    "err_no_confirmation": {"en": "Nothing is waiting for your approval.", "zh": "没有等待您批准的操作。"},
    "quota_requests": {"en": "requests", "zh": "请求次数"},
    "quota_tokens": {"en": "tokens", "zh": "token 数"},
    "period_day": {"en": "day", "zh": "日"},
    "period_month": {"en": "month", "zh": "月"},
    "session_closed": {"en": "This conversation is closed.", "zh": "该会话已关闭。"},
    "board_topic": {"en": "Board meeting", "zh": "私董会"},
    "round_summary": {"en": "Moderator's summary", "zh": "主持人总结"},
    "conclusion": {"en": "Conclusion", "zh": "结论"},
    "decision_advice": {"en": "Decision advice", "zh": "决策建议"},
    "consensus": {"en": "Consensus", "zh": "共识点"},
    "dissent": {"en": "Dissent", "zh": "分歧点"},
    "speaking": {"en": "speaking", "zh": "发言中"},
    "intervention": {"en": "You stepped in", "zh": "您的插话"},
    "team_title": {"en": "Team run", "zh": "团队协作"},
    "lead": {"en": "Lead", "zh": "负责人"},
    "depends_on": {"en": "after", "zh": "依赖"},
    "synthesis": {"en": "Synthesis", "zh": "综合结果"},
    "language": {"en": "Language", "zh": "语言"},
    "model": {"en": "Model", "zh": "模型"},
    "agent": {"en": "Agent", "zh": "智能体"},
    "upload_too_large": {"en": "File too large", "zh": "文件过大"},
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
    "cancel": {"en": "Cancel", "zh": "取消"},
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
    "plan_exec": {"en": "Plan & execute", "zh": "规划执行"},
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
    "login_throttled": {
        "en": "Too many attempts. Try again in {n} s.",
        "zh": "尝试次数过多，请 {n} 秒后再试。",
    },
    "login_unavailable": {
        "en": "Sign-in is unavailable right now. Try again later.",
        "zh": "暂时无法登录，请稍后再试。",
    },
    "admin": {"en": "Admin", "zh": "管理"},
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
    "admin_err_dept_name": {
        "en": "Enter a department name (at most 100 characters).",
        "zh": "请输入部门名称（最多 100 个字符）。",
    },
    "admin_err_dept_exists": {"en": "A department with this name exists already.", "zh": "已有同名部门。"},
    "admin_err_user_name": {
        "en": "Enter a user name of at most 64 letters, digits or . _ @ - (no spaces).",
        "zh": "用户名最多 64 个字符，只能包含字母、数字或 . _ @ -（不能有空格）。",
    },
    "admin_err_user_exists": {"en": "This user name is taken.", "zh": "该用户名已被占用。"},
    "admin_err_password": {
        "en": "The password must have 8 to 256 characters.",
        "zh": "密码长度须为 8 到 256 个字符。",
    },
    "admin_err_role": {"en": "Choose the role: user or admin.", "zh": "请选择角色：普通用户或管理员。"},
    "admin_err_number": {
        "en": "Quotas must be whole numbers of 0 or more, or empty for no limit.",
        "zh": "配额须为不小于 0 的整数，留空表示不限。",
    },
    "admin_err_unknown_dept": {
        "en": "That department no longer exists. Reload the page.",
        "zh": "该部门已不存在，请刷新页面。",
    },
    "admin_err_self_disable": {"en": "You cannot disable your own account.", "zh": "不能停用自己的账号。"},
    "admin_err_failed": {
        "en": "That did not work. Reload the page and try again.",
        "zh": "操作未成功，请刷新页面后重试。",
    },
    "team_no_result": {"en": "the team finished without a result", "zh": "团队结束，但没有产出结果"},
    "run_usage": {
        "en": "Tokens and model time of every model call in this run",
        "zh": "本次运行中所有模型调用的 token 数与模型耗时",
    },
}


def has_cjk(text: str) -> bool:
    """Return whether the text contains Chinese characters."""
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def t(key: str, language: str = "en", **values: object) -> str:
    """Return the text for a key in a language (English when the language is unknown)."""
    entry = TEXT[key]
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text


class LocalizedError(ValueError):
    """An error whose message is an entry of the table: English as ``str()``, any language by :meth:`text`."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(t(key, "en", **values))
        self.key = key
        self.values = values

    def text(self, language: str) -> str:
        """Return the message in ``language``."""
        return t(self.key, language, **self.values)
