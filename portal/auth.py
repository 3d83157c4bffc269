"""Sign-in blueprint: /login, /logout, /password, /locale; the user loader."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.extensions import db, login_manager
from portal.i18n import SUPPORTED
from portal.models import User
from portal.services import BusinessRuleError
from portal.services.signin import authenticate, change_password

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(
        _l("用户名"), validators=[DataRequired(_l("请填写用户名")), Length(max=50)]
    )
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码"))])
    remember = BooleanField(_l("记住我（14天）"))


class PasswordForm(FlaskForm):
    old_password = PasswordField(_l("原密码"), validators=[DataRequired(_l("请填写原密码"))])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码"))])
    repeat = PasswordField(_l("确认新密码"), validators=[DataRequired(_l("请再次输入新密码"))])


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect (no scheme, host or //)."""
    default = url_for("admin.index")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


def client_ip() -> str | None:
    # Behind a proxy, configure ProxyFix in the WSGI entry point; never trust the header here.
    return request.remote_addr


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(
            db.session,
            form.username.data,
            form.password.data,
            ip=client_ip(),
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
        db.session.commit()
        if result.user is not None:
            session.clear()
            login_user(result.user, remember=form.remember.data)
            if result.user.must_change_password:
                flash(gettext("请先把临时密码改为您自己的密码"), "info")
                return redirect(url_for("auth.password"))
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append(result.message)
    return render_template("auth/login.html", form=form), 200


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Rotating the token ends this session and every other one, remember cookies too.
        current_user.rotate_session_token()
        db.session.commit()
    logout_user()
    session.clear()
    flash(gettext("您已退出登录"), "info")
    return redirect(url_for("auth.login"))


# What an account still on its temporary password may open: nothing but changing it.
OPEN_BEFORE_PASSWORD_CHANGE = {"auth.password", "auth.logout", "auth.set_locale", "static"}


@bp.before_app_request
def require_own_password():
    """An account created with a temporary password changes it before anything else."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in OPEN_BEFORE_PASSWORD_CHANGE
        and not (request.endpoint or "").endswith(".static")
    ):
        return redirect(url_for("auth.password"))
    return None


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(
                db.session,
                current_user,
                form.old_password.data,
                form.new_password.data,
                form.repeat.data,
            )
        except BusinessRuleError as error:
            db.session.rollback()
            form.new_password.errors.append(str(error))
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this browser keeps going
            flash(gettext("密码已修改，其他设备上的登录已失效"), "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/locale", methods=["POST"])
def set_locale():
    chosen = request.form.get("locale")
    if chosen in SUPPORTED:
        session["locale"] = chosen
        if current_user.is_authenticated:
            current_user.locale = chosen
            db.session.commit()
    return redirect(safe_next(request.form.get("next")))


@login_manager.user_loader
def load_user(token: str) -> User | None:
    user = db.session.execute(select(User).where(User.session_token == token)).scalar_one_or_none()
    return user if user is not None and user.is_active else None


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    # Flash messages are stored in the session cookie: plain strings only, never lazy ones.
    login_manager.login_message = "请先登录"
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)

    @app.route("/")
    def root():
        return redirect(url_for("admin.index"))
