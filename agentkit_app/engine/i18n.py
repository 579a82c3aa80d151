"""What the engine and the service say to users, in English and Simplified Chinese (the web UI keeps its own text apart)."""

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
    "closed": {"en": "closed", "zh": "已关闭"},
    "answer": {"en": "Answer", "zh": "回答"},
    "tool": {"en": "Tool", "zh": "工具"},
    "thinking": {"en": "Thinking", "zh": "思考"},
    "arguments": {"en": "Arguments", "zh": "参数"},
    "result": {"en": "Result", "zh": "结果"},
    "approved": {"en": "approved", "zh": "已批准"},
    "running": {"en": "running", "zh": "进行中"},
    "done": {"en": "done", "zh": "已完成"},
    "failed": {"en": "failed", "zh": "失败"},
    "skill": {"en": "Skill", "zh": "技能"},
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
    "session_closed": {"en": "This conversation is closed.", "zh": "该会话已关闭。"},
    "round_summary": {"en": "Moderator's summary", "zh": "主持人总结"},
    "conclusion": {"en": "Conclusion", "zh": "结论"},
    "decision_advice": {"en": "Decision advice", "zh": "决策建议"},
    "consensus": {"en": "Consensus", "zh": "共识点"},
    "dissent": {"en": "Dissent", "zh": "分歧点"},
    "intervention": {"en": "You stepped in", "zh": "您的插话"},
    "lead": {"en": "Lead", "zh": "负责人"},
    "depends_on": {"en": "after", "zh": "依赖"},
    "synthesis": {"en": "Synthesis", "zh": "综合结果"},
    "language": {"en": "Language", "zh": "语言"},
    "model": {"en": "Model", "zh": "模型"},
    "agent": {"en": "Agent", "zh": "智能体"},
    "upload_too_large": {"en": "File too large", "zh": "文件过大"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "plan_exec": {"en": "Plan & execute", "zh": "规划执行"},
    "login_throttled": {
        "en": "Too many attempts. Try again in {n} s.",
        "zh": "尝试次数过多，请 {n} 秒后再试。",
    },
    "login_unavailable": {
        "en": "Sign-in is unavailable right now. Try again later.",
        "zh": "暂时无法登录，请稍后再试。",
    },
    "admin": {"en": "Admin", "zh": "管理"},
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
    "admin_err_failed": {
        "en": "That did not work. Reload the page and try again.",
        "zh": "操作未成功，请刷新页面后重试。",
    },
    "team_no_result": {"en": "the team finished without a result", "zh": "团队结束，但没有产出结果"},
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
