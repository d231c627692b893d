"""Pure: a round's steps in order, each done or not, with what still blocks it (in words a staff member acts on)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RoundFacts:
    round_id: int
    applications: int = 0
    formal_pending: int = 0
    passed: int = 0
    unassigned: int = 0
    panels: int = 0
    panels_without_chair: tuple[str, ...] = ()
    sheets_not_started: int = 0
    sheets_draft: int = 0
    sheets_returned: int = 0
    open_panels: tuple[str, ...] = ()
    listed: int = 0
    publicity_set: bool = False
    published: bool = False
    publish_problems: tuple[str, ...] = ()
    open_objections: int = 0
    final_published: bool = False


@dataclass(frozen=True)
class Step:
    title: str
    href: str
    done: bool
    blockers: tuple[str, ...] = field(default_factory=tuple)


def sheets_outstanding(facts: RoundFacts) -> int:
    return facts.sheets_not_started + facts.sheets_draft + facts.sheets_returned


def round_steps(facts: RoundFacts) -> list[Step]:
    base = f"/rounds/{facts.round_id}"
    steps: list[Step] = []

    blockers = [] if facts.applications else ["尚未导入申报名单：请在「申报管理」中导入省级汇总表（Excel）。"]
    steps.append(Step("导入申报", f"{base}/applications", bool(facts.applications), tuple(blockers)))

    blockers = []
    if facts.formal_pending:
        blockers.append(f"还有 {facts.formal_pending} 份申报未完成形式审查。")
    done = bool(facts.applications) and not facts.formal_pending
    steps.append(Step("形式审查", f"{base}/formal-review", done, tuple(blockers)))

    blockers = []
    if not facts.panels:
        blockers.append("尚未建立专家组：通常每个行业一个组，每组 5–7 人。")
    if facts.panels_without_chair:
        blockers.append(f"专家组「{'」「'.join(facts.panels_without_chair)}」还没有组长。")
    if facts.unassigned:
        blockers.append(f"还有 {facts.unassigned} 个通过形式审查的项目未分配专家组。")
    done = bool(facts.panels) and not blockers and bool(facts.passed)
    steps.append(Step("组建专家组并分配项目", f"{base}/panels", done, tuple(blockers)))

    outstanding = sheets_outstanding(facts)
    blockers = []
    if outstanding:
        blockers.append(
            f"还有 {outstanding} 份评分表未提交（未开始 {facts.sheets_not_started}，草稿 {facts.sheets_draft}，"
            f"退回重评 {facts.sheets_returned}）。"
        )
    done = bool(facts.panels) and bool(facts.passed) and not outstanding and not facts.unassigned
    steps.append(Step("专家评分", f"{base}/scoring", done, tuple(blockers)))

    blockers = []
    if facts.open_panels:
        blockers.append(f"还有 {len(facts.open_panels)} 个专家组未定稿：{'、'.join(facts.open_panels)}。")
    done = bool(facts.panels) and not facts.open_panels
    steps.append(Step("组长定稿", f"{base}/ranking", done, tuple(blockers)))

    blockers = list(facts.publish_problems) if not facts.published else []
    steps.append(Step("设置并发布公示", f"{base}/publicity", facts.published, tuple(blockers)))

    blockers = [f"还有 {facts.open_objections} 件异议尚未办结。"] if facts.open_objections else []
    steps.append(
        Step("处理异议", f"/objections?round_id={facts.round_id}", facts.published and not blockers, tuple(blockers))
    )

    steps.append(Step("发布最终名单", f"{base}/publicity", facts.final_published, ()))
    return steps


def next_step(steps: list[Step]) -> Step | None:
    return next((s for s in steps if not s.done), None)
