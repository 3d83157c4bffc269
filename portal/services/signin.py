"""Sign-in rules (issue #2): hashing, lockout after repeated failures, the login log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.clock import now
from portal.models import LoginLog, User
from portal.services import BusinessRuleError

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@dataclass
class SignInResult:
    user: User | None
    message: object | None  # shown to the person signing in when user is None


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str | None,
    max_failures: int = 10,
    lock_minutes: int = 15,
    at: datetime | None = None,
) -> SignInResult:
    """Check credentials; count failures in the database; log every attempt (R-AUDIT-1)."""
    at = at or now()
    username = (username or "").strip()
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()

    def log(success: bool, reason: str) -> None:
        session.add(
            LoginLog(
                at=at,
                username=username[:50],
                user_id=user.id if user else None,
                ip=ip,
                success=success,
                reason=reason,
            )
        )

    if user is None:
        # Same wording as a wrong password: do not confirm which accounts exist.
        log(False, "unknown_user")
        return SignInResult(None, _l("用户名或密码错误"))
    if user.locked_until and user.locked_until > at:
        log(False, "locked")
        minutes = max(1, int((user.locked_until - at).total_seconds() // 60) + 1)
        return SignInResult(
            None, _l("密码错误次数过多，账号已锁定，请 %(m)s 分钟后再试", m=minutes)
        )
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        reason = "bad_password"
        if user.failed_logins >= max_failures:
            user.locked_until = at + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            reason = "bad_password_locked"
        log(False, reason)
        if reason == "bad_password_locked":
            return SignInResult(
                None, _l("密码错误次数过多，账号已锁定，请 %(m)s 分钟后再试", m=lock_minutes)
            )
        return SignInResult(None, _l("用户名或密码错误"))
    if user.state == "frozen":
        log(False, "frozen")
        return SignInResult(None, _l("账号已冻结，请联系版块管理员"))
    if user.state == "deactivated":
        log(False, "deactivated")
        return SignInResult(None, _l("账号已停用，无法登录"))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = at
    log(True, "ok")
    session.flush()
    return SignInResult(user, None)


def change_password(session: Session, user: User, old: str, new: str, repeat: str) -> None:
    """Change the user's own password; every other session of his ends (token rotated)."""
    if not check_password_hash(user.password_hash, old or ""):
        raise BusinessRuleError(_l("原密码不正确"))
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise BusinessRuleError(_l("新密码至少 %(n)s 位", n=MIN_PASSWORD_LENGTH))
    if new != repeat:
        raise BusinessRuleError(_l("两次输入的新密码不一致"))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.rotate_session_token()
    session.flush()
