"""Security headers on every response (等保2.0: protection against XSS, clickjacking, MIME sniffing and leaking
addresses), HSTS only in production over HTTPS, and HEAD answered wherever GET is."""

import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from reviewapp.auth.models import Role

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def assert_protected(response) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]


def test_login_page_error_pages_and_static_files_carry_the_headers(client):
    for url, status in [("/login", 200), ("/no-such-page", 404), ("/static/app.js", 200), ("/healthz", 200)]:
        response = client.get(url)
        assert response.status_code == status, url
        assert_protected(response)


def test_staff_pages_and_downloads_carry_the_headers(staff_client):
    for url in ["/", "/rounds", "/audit", "/audit/export.xlsx"]:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert_protected(response)


def test_no_hsts_in_development_or_over_plain_http(client):
    assert "strict-transport-security" not in client.get("/login").headers


@pytest.fixture
def production_app(settings):  # type: ignore[no-untyped-def]
    from reviewapp.app import create_app

    return create_app(settings.with_(mode="production", secret_key="p" * 48))


def test_hsts_in_production_over_https_only(production_app):
    with TestClient(app=production_app, base_url="https://review.example.gov.cn") as https:
        assert https.get("/login").headers["strict-transport-security"].startswith("max-age=31536000")
    with TestClient(app=production_app, base_url="http://review.example.gov.cn") as http:
        assert "strict-transport-security" not in http.get("/login").headers


def test_hsts_behind_a_trusted_proxy_that_terminated_https(production_app, settings):
    from reviewapp.app import create_app

    proxied = create_app(settings.with_(mode="production", secret_key="p" * 48, trust_proxy_headers=True))
    with TestClient(app=proxied, base_url="http://10.0.0.5") as c:
        response = c.get("/login", headers={"x-forwarded-proto": "https"})
        assert response.headers["strict-transport-security"].startswith("max-age=")
    # Without trusting the proxy, a client cannot claim HTTPS.
    with TestClient(app=production_app, base_url="http://10.0.0.5") as c:
        assert "strict-transport-security" not in c.get("/login", headers={"x-forwarded-proto": "https"}).headers


def test_head_answers_like_get_without_a_body(client, make_user, login):
    staff = login(make_user("headstaff", Role.staff))
    for browser, url in [(client, "/login"), (client, "/healthz"), (client, "/static/app.css"), (staff, "/rounds")]:
        got = browser.get(url)
        head = browser.head(url)
        assert head.status_code == got.status_code == 200, url
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert_protected(head)
    # HEAD follows the same guards as GET: anonymous is sent to log in, and an unknown path is 404.
    assert client.head("/rounds", follow_redirects=False).status_code == 303
    assert client.head("/no-such-page").status_code == 404
    # A path with only POST does not gain a HEAD.
    assert client.head("/logout").status_code == 405


INLINE_SCRIPT = re.compile(r"""<script(?![^>]*\bsrc=)|(?<![\w.-])on[a-z]+\s*=\s*["'{]|javascript:|hx-on""", re.I)


def test_templates_hold_no_inline_script():
    """The policy forbids inline script; a template that brings one back breaks its page (the browser tests
    also fail on any violation)."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INLINE_SCRIPT.search(line)
    ]
    assert offenders == []
