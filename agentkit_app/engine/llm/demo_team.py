"""The offline demo model's side of a team run: a plan, phase reports, a review and a synthesis."""

from __future__ import annotations

import json
import re

from agentkit_app.engine.llm.base import Message

_MEMBER = re.compile(r"^- (.+?) \((\w+)\):", re.MULTILINE)
_NAME = re.compile(r"You are ([^,]+),")
_TASK = re.compile(r"Task: (.*)")
_PHASE = re.compile(r"Your phase: (.*)")
_RESULT_HEAD = re.compile(r"^### (.+?)(?: \(.+\))?$", re.MULTILINE)

_STEPS_EN = {
    "lead": "Plan the work",
    "product": "Write down what the user needs",
    "developer": "Build it",
    "engineer": "Build it",
    "reviewer": "Review the result",
    "expert": "Contribute expertise",
}
_STEPS_ZH = {
    "lead": "规划工作",
    "product": "写清用户需求",
    "developer": "实现方案",
    "engineer": "实现方案",
    "reviewer": "评审结果",
    "expert": "贡献专业意见",
}


def _plan(members: list[tuple[str, str]], task: str, zh: bool, purpose: str) -> list[dict[str, object]]:
    """The first member opens, the middle members work side by side on it, the last one closes.

    A replan is one phase with a fresh id and no dependencies.
    """
    steps = _STEPS_ZH if zh else _STEPS_EN
    prefix = "r" if purpose == "team.replan" else "p"
    phases: list[dict[str, object]] = []
    for index, (name, role) in enumerate(members):
        if index == 0:
            depends: list[str] = []
        elif index == len(members) - 1 and index > 1:
            depends = [f"{prefix}{i + 1}" for i in range(1, index)]
        else:
            depends = [f"{prefix}1"]
        step = steps.get(role, steps["expert"])
        phases.append(
            {
                "id": f"{prefix}{index + 1}",
                "name": step,
                "expert": name,
                "depends_on": depends,
                "goal": f"{step}: {task}",
            }
        )
    return phases[:1] if purpose == "team.replan" else phases


def respond(purpose: str, messages: list[Message]) -> str:
    """Answer a team prompt deterministically from what the prompt says."""
    system = str(messages[0].get("content") or "") if messages else ""
    user = str(messages[-1].get("content") or "") if messages else ""
    zh = "Simplified Chinese" in system
    task_match = _TASK.search(user)
    task = task_match.group(1).strip() if task_match else ""
    if purpose in ("team.plan", "team.plan_fix", "team.replan"):
        return json.dumps({"phases": _plan(_MEMBER.findall(system), task, zh, purpose)}, ensure_ascii=False)
    if purpose == "team.phase":
        name_match, phase_match = _NAME.search(system), _PHASE.search(user)
        name = name_match.group(1).strip() if name_match else "Member"
        phase = phase_match.group(1).strip() if phase_match else ""
        heard = "The user's instructions during the run:\n-" in user
        if zh:
            text = f"{name} 完成了“{phase}”：针对“{task}”给出了具体做法，并检查了前一阶段的结果。"
            text += "已按您的新要求调整。" if heard else ""
        else:
            text = f'{name} finished "{phase}": a concrete approach to "{task}", building on the earlier results.'
            text += " Adjusted to your new instructions." if heard else ""
        if "VERDICT" in system:
            text = "VERDICT: approve\n" + text
        return text
    if purpose == "team.synthesis":
        heads = _RESULT_HEAD.findall(user)
        if zh:
            return f"## 团队成果\n\n任务“{task}”已完成，共 {len(heads)} 个阶段：" + "、".join(heads) + "。"
        return (
            f'## Team result\n\nThe task "{task}" is done in {len(heads)} phase(s): ' + ", ".join(heads) + "."
        )
    return ""
