"""CRM back-office portal: the application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from portal import auth, cli, database, errors, i18n, timing
from portal import config as settings
from portal.extensions import csrf, db, login_manager, migrate
from portal.views import init_admin

REPO_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the portal: settings, extensions, sign-in, admin views, CLI. No I/O here."""
    app = Flask(
        __name__,
        instance_path=str(REPO_ROOT / "instance"),
        template_folder=str(REPO_ROOT / "templates"),
    )
    app.config.update(settings.load_config(Path(app.instance_path)))
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key(Path(app.instance_path))

    database.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "schema"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    timing.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    init_admin(app)
    cli.init_app(app)
    return app
