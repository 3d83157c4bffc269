"""Settings from the environment, with safe defaults (REQUIREMENTS §5)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(instance_path: Path) -> dict:
    """The configuration the factory applies before any test or caller override."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.db'}"
    # Heroku-style URLs name the legacy driver; we ship psycopg 3.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "PORTAL_COMPANY_NAME": os.environ.get("PORTAL_COMPANY_NAME", "示范集团有限公司"),
        # Sign-in hardening (issue #2): the remember cookie lives at most 14 days,
        # only over HTTPS unless explicitly relaxed for a plain-HTTP intranet test.
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": os.environ.get("PORTAL_INSECURE_COOKIES") != "1",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("PORTAL_SESSION_COOKIE_SECURE") == "1",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "LOGIN_MAX_FAILURES": 10,
        "LOGIN_LOCK_MINUTES": 15,
        "WTF_CSRF_TIME_LIMIT": None,
        "FLASK_ADMIN_SWATCH": "default",
    }
