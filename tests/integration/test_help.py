"""帮助: every role finds the user guide in the navigation; its pages and screenshots are served, nothing else is."""

from __future__ import annotations

from reviewapp.auth.models import Role
from reviewapp.help import GUIDE_PAGES, _markdown


def test_every_role_has_help_and_the_guide_pages_render(make_user, login, staff_client) -> None:  # type: ignore[no-untyped-def]
    for role in Role:
        user = make_user(f"help_{role.value}", role)
        home = login(user).get("/")
        assert 'href="/help/"' in home.text and "帮助" in home.text, role

    index = staff_client.get("/help/")
    assert index.status_code == 200 and "用户指南" in index.text
    for slug, title in GUIDE_PAGES.items():
        if slug != "README":
            assert f'href="/help/{slug}.md"' in index.text
            page = staff_client.get(f"/help/{slug}.md")
            assert page.status_code == 200 and title in page.text, slug

    staff = staff_client.get("/help/staff.md").text
    assert 'src="/help/images/staff-round.png"' in staff and 'href="/help/review-day.md"' in staff
    image = staff_client.get("/help/images/staff-round.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def test_only_the_guide_is_served(staff_client, client) -> None:  # type: ignore[no-untyped-def]
    assert staff_client.get("/help/screenshots.py").status_code == 404
    assert staff_client.get("/help/..%2Fpyproject.toml").status_code == 404
    assert staff_client.get("/help/images/..%2F..%2FREADME.md").status_code == 404
    assert client.get("/help/", follow_redirects=False).status_code in {302, 303, 401}  # signed-in users only


def test_raw_html_in_the_guide_is_escaped() -> None:
    html = _markdown().render("<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![a](images/a.png)")
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript:' not in html
    assert 'src="/help/images/a.png"' in html
