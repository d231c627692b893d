"""Fuzzing every form endpoint (issue 12): hypothesis posts random and boundary values to every POST route of the
app, as staff and as an expert who chairs a demo panel, with a valid CSRF token, against the demo world. Whatever
it sends, the app answers with a page, a redirect or a refusal, never a 500.

Field names are the ones the templates use (so the values reach the parsers), path ids are small real ids of the
demo world and unknown ones."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.handlers import HTTPRouteHandler

from reviewapp.demo import load_demo

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Routes whose success changes who is signed in: fuzzing them would only log the fuzzer out.
NOT_FUZZED = {"/logout"}

BOUNDARY_VALUES = [
    "-1",
    "0",
    "101",
    "1e309",
    "-1e309",
    "NaN",
    "inf",
    "１２",
    "",
    " ",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "999999999999999999999999",
    "9" * 400,
    "<script>alert(1)</script>",
    "=1+1",
    "../../etc/passwd",
    "\x00",
    "true",
    "on",
    "中文",
]


def _template_field_names() -> list[str]:
    names: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        names.update(re.findall(r'name="([a-z_][a-z0-9_]*)"', path.read_text(encoding="utf-8")))
    names.discard("_csrf_token")
    return sorted(names)


FIELD_NAMES = _template_field_names()
VALUES = st.one_of(
    st.sampled_from(BOUNDARY_VALUES),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates().map(str),
    st.text(max_size=40),
)
FORMS = st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=8)
IDS = st.sampled_from(["1", "2", "3", "5", "999999"])
PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _post_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    paths = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and "POST" in handler.http_methods:
                paths.add(route.path)
    return sorted(paths - NOT_FUZZED)


def _fill(path: str, data: st.DataObject) -> str:
    def one(match: re.Match[str]) -> str:
        return data.draw(IDS) if match.group(2) == "int" else data.draw(st.sampled_from(["x", "abc", "0" * 32]))

    return PARAM.sub(one, path)


@pytest.fixture
def demo_browsers(db, settings, login):  # type: ignore[no-untyped-def]
    load_demo(db, settings=settings)
    db.commit()
    return {"staff": login("staff", "staff-demo-2026"), "chair": login("expert1", "expert-demo-2026")}


@pytest.mark.parametrize("role", ["staff", "chair"])
def test_no_form_post_answers_500(app, demo_browsers, role) -> None:  # type: ignore[no-untyped-def]
    routes = _post_routes(app)
    assert len(routes) > 50  # the enumeration found the app's forms
    browser = demo_browsers[role]
    failures: list[str] = []

    @settings(
        max_examples=3,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def post_everywhere(data: st.DataObject) -> None:
        for path in routes:
            url = _fill(path, data)
            form = data.draw(FORMS)
            response = browser.submit(url, form, follow_redirects=False)
            if response.status_code >= 500:
                failures.append(f"{role} POST {url} {form!r} -> {response.status_code}")

    post_everywhere()
    assert failures == [], "\n".join(failures[:20])


def test_ten_megabytes_of_text_is_refused_cleanly(app, demo_browsers) -> None:  # type: ignore[no-untyped-def]
    """A 10 MB field (within the body limit, so the form parsers see it) gets a refusal or a page, never a 500."""
    browser = demo_browsers["staff"]
    # Encoded once: encoding 10 MB per request would dominate the test's time.
    body = urlencode({"note": "a" * (10 * 1024 * 1024), "reason": "x", "_csrf_token": browser.csrf()})
    failures = []
    for path in _post_routes(app):
        url = PARAM.sub(lambda m: "1" if m.group(2) == "int" else "x", path)
        response = browser.post(
            url, content=body, headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False
        )
        if response.status_code >= 500:
            failures.append(f"POST {url} -> {response.status_code}")
    assert failures == []
