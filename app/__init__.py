"""PTSP: the regional one-stop permit service."""
from __future__ import annotations

from flask import Flask

from app.clock import Clock
from app.config import Settings
from app.publisher import Publisher


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               publisher: Publisher | None = None) -> Flask:
    """The Flask application, wired from ``settings`` (environment by default)."""
    from app import cli
    from app.container import Container
    from app.ops.views import bp as ops_bp

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=max(settings.max_form_bytes, settings.max_bpmn_bytes) + 64 * 1024,
    )
    kwargs = {"clock": clock} if clock is not None else {}
    app.extensions["ptsp"] = Container(settings, publisher=publisher, **kwargs)
    app.register_blueprint(ops_bp)
    cli.register(app)
    return app
