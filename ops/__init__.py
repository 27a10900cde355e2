"""Operations: health checks, the answer while the database is away, request ids and logs,
backups. Supporting machinery beside the parts; it imports nothing from ``tasks`` or ``scoring``."""
from flask import Flask

from ops import audit, backup, health, tracing


def init_app(app: Flask) -> None:
    tracing.init_app(app)
    health.init_app(app)
    app.register_blueprint(audit.bp)
    app.register_blueprint(audit.api_bp)
    app.cli.add_command(backup.cli)
