"""Every route declares who may use it: a guard, the explicit public marker, or (the autosave only) a handler
that reads the session itself and applies the guards' rule (tested in test_scoring_sheets)."""

from litestar.handlers import HTTPRouteHandler


def test_every_route_has_a_guard_or_is_public(app):
    unguarded = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            guards = handler.resolve_guards()
            public = bool((handler.opt or {}).get("public"))
            if not guards and not public and not (handler.opt or {}).get("session_in_handler"):
                unguarded.append(f"{sorted(handler.http_methods)} {route.path}")
    assert unguarded == [], f"routes without a guard or public marker: {unguarded}"


def test_only_the_autosave_checks_the_session_in_its_handler(app):
    """Such a handler must call check_access itself: keep the list short and known."""
    in_handler = {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if isinstance(handler, HTTPRouteHandler) and (handler.opt or {}).get("session_in_handler")
    }
    assert in_handler == {"/expert/applications/{application_id:int}/save"}


def test_anonymous_visitor_is_sent_to_login_with_next(client):
    response = client.get("/audit?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit%3Fq%3Dx"
