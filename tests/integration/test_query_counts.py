"""The pages an expert, a chair or staff open on a review day read their data in a fixed number of SQL statements:
each page is fetched over 1 and over 20 rows of data (criteria items, applications) and the statement counts must
be equal. A page that issues a query per row (N+1) is marked xfail(strict=True) with what grows, so the change that
fixes it has to flip the mark. Each page's count is also held at its present maximum (MAX_STATEMENTS): a change
that adds a statement to a review-day page has to lower another or raise the bound on purpose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event, update
from sqlmodel import Session, select

from bench import province
from reviewapp.files import StoredFile
from reviewapp.panels.models import Panel
from reviewapp.scoring.models import ScoreSheet, SheetVersion


@contextmanager
def counted() -> Iterator[list[int]]:
    counter = [0]

    def count(*_args: object) -> None:
        counter[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def build(engine: Engine, *, rows: int, items: int = 20) -> province.Province:
    """One panel of 7 holding `rows` applications (moved there whatever their industry), `items` criteria items."""
    with Session(engine, expire_on_commit=False) as session:
        day = province.build(
            session, applications=2 * rows + 4, experts=28, panels_count=1, big_panel=rows, items=items, seed=7
        )
    assert day.chair_panel_size == rows, f"the generator placed {day.chair_panel_size} applications, not {rows}"
    return day


PAGES: dict[str, tuple[str, Callable[[province.Province], str]]] = {
    "score_sheet": ("chair", lambda d: f"/expert/applications/{d.sheet_application[d.chair_username]}"),
    "chair_panel": ("chair", lambda d: f"/expert/panels/{d.chair_panel_id}"),
    "expert_home": ("chair", lambda d: "/"),
    "expert_round": ("chair", lambda d: f"/expert/rounds/{d.round_id}"),
    "staff_applications": ("staff", lambda d: f"/rounds/{d.round_id}/applications"),
    "recommendations": ("staff", lambda d: f"/rounds/{d.round_id}/recommendations"),
}


def statements(engine: Engine, login, page: str, *, rows: int, items: int, extra=None) -> int:  # type: ignore[no-untyped-def]
    from tests.conftest import reset_database

    reset_database(engine)
    day = build(engine, rows=rows, items=items)
    if page == "recommendations":  # the list holds the finalized panels' applications
        extra = finalized
    if extra is not None:
        with Session(engine) as session:
            extra(session, day)
            session.commit()
    who, url_of = PAGES[page]
    browser = login(day.chair_username if who == "chair" else day.staff_username, province.PASSWORD)
    url = url_of(day)
    first = browser.get(url)
    assert first.status_code == 200, first.text[:500]
    with counted() as counter:
        again = browser.get(url)
    assert again.status_code == 200
    return counter[0]


def finalized(session: Session, day: province.Province) -> None:
    session.execute(update(Panel).where(Panel.round_id == day.round_id).values(finalized_at=datetime.now(UTC)))


N_PLUS_ONE: dict[str, str] = {}

# Statements per page view (session lookup included), as measured on this suite's data after issue 14's work.
MAX_STATEMENTS = {
    "score_sheet": 6,  # the budget: session, the pair's row, conflict facts, criteria with scores, scenarios, files
    "chair_panel": 29,
    "expert_home": 4,  # session, the expert's seats (panel, round, pledge), candidates with sheets, conflict facts
    "expert_round": 4,  # the same statements as the home (one round of them), the list paginated in memory
    "staff_applications": 7,
    "recommendations": 16,
}


@pytest.mark.parametrize("page", list(PAGES))
def test_statement_count_does_not_grow_with_applications(page: str, engine: Engine, client, login) -> None:  # type: ignore[no-untyped-def]
    if page in N_PLUS_ONE:
        pytest.xfail(N_PLUS_ONE[page])
    one = statements(engine, login, page, rows=1, items=20)
    twenty = statements(engine, login, page, rows=20, items=20)
    assert twenty == one, f"{page}: {one} statements for 1 application, {twenty} for 20"
    assert one <= MAX_STATEMENTS[page], f"{page}: {one} statements, at most {MAX_STATEMENTS[page]} expected"


def test_score_sheet_statement_count_does_not_grow_with_criteria(engine: Engine, client, login) -> None:  # type: ignore[no-untyped-def]
    one = statements(engine, login, "score_sheet", rows=1, items=1)
    twenty = statements(engine, login, "score_sheet", rows=1, items=20)
    assert twenty == one, f"score sheet: {one} statements for 1 criteria item, {twenty} for 20"


def attachments(count: int):  # type: ignore[no-untyped-def]
    def add(session: Session, day: province.Province) -> None:
        app_id = day.sheet_application[day.chair_username]
        for n in range(count):
            session.add(StoredFile(owner_type="application", owner_id=app_id, filename=f"佐证材料{n + 1}.pdf",
                                   storage_key=f"k{app_id}-{n}", content_type="application/pdf", size=1024,
                                   sha256="0" * 64))  # fmt: skip

    return add


def earlier_versions(count: int):  # type: ignore[no-untyped-def]
    def add(session: Session, day: province.Province) -> None:
        sheet = session.exec(
            select(ScoreSheet).where(ScoreSheet.application_id == day.sheet_application[day.chair_username])
        ).first()
        assert sheet is not None
        for n in range(count):
            session.add(SheetVersion(sheet_id=sheet.id, version=n + 1, kind="save", change_json="{}"))  # type: ignore[arg-type]

    return add


@pytest.mark.parametrize("more", [attachments, earlier_versions], ids=["attachments", "earlier_versions"])
def test_score_sheet_statement_count_does_not_grow_with_attachments_or_versions(more, engine: Engine, client, login) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    one = statements(engine, login, "score_sheet", rows=1, items=5, extra=more(1))
    twenty = statements(engine, login, "score_sheet", rows=1, items=5, extra=more(20))
    assert twenty == one, f"score sheet: {one} statements with 1, {twenty} with 20 ({more.__name__})"


def test_recommendation_list_statement_count_does_not_grow_past_one_in_list(engine: Engine, client, login) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    few = statements(engine, login, "recommendations", rows=20, items=20)
    many = statements(engine, login, "recommendations", rows=140, items=20)  # 980 sheets: more than one IN list
    assert many == few, f"recommendation list: {few} statements for 20 applications, {many} for 140"
