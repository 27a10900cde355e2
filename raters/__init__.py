"""Accounts: users, roles, login, API tokens, expertise, consent."""
from flask import Flask


def init_app(app: Flask) -> None:
    from raters import api, auth, views  # blueprints import the app's extensions

    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
