"""Sessions, CSRF and security headers, set up in one place."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from database import db
from raters import services
from raters.inputs import MAX_NEXT_CHARS

csrf = CSRFProtect()
login_manager = LoginManager()


def content_security_policy(media_origin: str | None = None) -> str:
    """The policy of every page; ``media_origin`` is the asset bucket that staff's players and
    waveforms are redirected to (presigned URLs), when there is one."""
    media = f" {media_origin}" if media_origin else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # wavesurfer and plotly inject <style>; scripts stay strict
        "img-src 'self' data: blob:",
        f"media-src 'self' blob:{media}",
        f"connect-src 'self'{media}",  # wavesurfer fetches the audio it draws
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def is_token_media_request() -> bool:
    """A media fetch carrying a bearer token: API raters fetch what they must watch."""
    return request.path.startswith("/media/") and \
        request.headers.get("Authorization", "").lower().startswith("bearer ")


def wants_json() -> bool:
    """Errors of API requests and of token media fetches are JSON, not pages or redirects."""
    return is_api_request() or is_token_media_request()


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only same-site relative paths, of a bounded length, are followed after login (no open
    redirects; no page that carries a "next" its own form then refuses)."""
    if not target or len(target) > MAX_NEXT_CHARS:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return fallback
    return target


@login_manager.user_loader
def _load_user_from_session(session_id: str):
    if wants_json():  # the API authenticates by bearer token only, never by cookie
        return None
    return services.user_by_session_id(db.session, session_id)


@login_manager.request_loader
def _load_user_from_token(req):
    if not wants_json():
        return None
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return services.user_for_token(db.session, secret.strip())


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:  # the client's address, scheme and host as the trusted proxies saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    policy = content_security_policy(app.extensions["asset_store"].browser_origin)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response


def exempt_api_from_csrf(app: Flask) -> None:
    """API blueprints authenticate by bearer token only (never the session cookie), so a
    cross-site request cannot ride on a browser's login: they need no CSRF token."""
    for name, blueprint in app.blueprints.items():
        if (blueprint.url_prefix or "").startswith("/api/"):
            csrf.exempt(blueprint)
