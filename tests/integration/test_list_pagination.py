"""A round with more applications than fit on a page: staff's application list and the formal review page render
and link to the next page (the pagination macro needs the request)."""

from __future__ import annotations

from sqlmodel import Session

from tests.factories import make_application, make_round


def test_long_application_lists_page_through(db: Session, staff_client) -> None:  # type: ignore[no-untyped-def]
    rnd = make_round(db)
    for _ in range(51):
        make_application(db, rnd)
    db.commit()
    first = staff_client.get(f"/rounds/{rnd.id}/applications")
    assert first.status_code == 200
    assert 'rel="next"' in first.text and "page=2" in first.text
    second = staff_client.get(f"/rounds/{rnd.id}/applications?page=2")
    assert second.status_code == 200 and 'rel="prev"' in second.text
    review = staff_client.get(f"/rounds/{rnd.id}/formal-review")
    assert review.status_code == 200
    assert 'rel="next"' in review.text
