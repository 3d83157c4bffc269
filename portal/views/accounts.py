"""Accounts, the audit log and the login log (R-ACCOUNT-4, R-AUDIT-1/2).

All three are read-only: accounts change only through account requests (R-ACCOUNT-1),
log entries never change. Which rows a role sees is portal/scope.py (a division's head
and admin see their division, group management and sysadmin everything).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import has_request_context
from flask_admin.contrib.sqla.filters import (
    BooleanEqualFilter,
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_admin.model.template import macro
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from portal import scope
from portal.clock import now
from portal.extensions import db
from portal.i18n import choices
from portal.models import (
    AuditLog,
    Division,
    FeedbackReason,
    Grade,
    Industry,
    LoginLog,
    LostReason,
    Role,
    ServicePriority,
    ServiceType,
    Source,
    Stage,
    User,
)
from portal.services.audit import MASKED_FIELDS, mask_mobile
from portal.views import formatters as fmt
from portal.views.base import PortalModelView
from portal.views.children import COMMON_LABELS
from portal.views.customers import LABELS as CUSTOMER_LABELS
from portal.views.options import division_options, user_options

# R-ACCOUNT-4: an account nobody has signed in to for this many days (or ever) is dormant.
DORMANT_DAYS = 14

ACCOUNT_LABELS = {
    "username": _l("用户名"),
    "display_name": _l("姓名"),
    "role": _l("角色"),
    "division": _l("版块"),
    "state": _l("状态"),
    "last_login_at": _l("最近登录"),
    "created_at": _l("创建时间"),
    "mobile": _l("手机"),
    "locale": _l("界面语言"),
}


def dormant():
    """Active accounts without a sign-in for DORMANT_DAYS days, or never signed in."""
    since = now() - timedelta(days=DORMANT_DAYS)
    return (User.state == "active") & or_(User.last_login_at.is_(None), User.last_login_at < since)


def _role_options():
    if not has_request_context():
        return []
    rows = db.session.execute(select(Role.code, Role.name).order_by(Role.sort_order)).all()
    return [(code, name) for code, name in rows]


def _last_login(view, context, model, name):
    value = getattr(model, name)
    return f"{value:%Y-%m-%d %H:%M}" if value else gettext("从未登录")


class UserView(PortalModelView):
    """Accounts are read here; they change only through account requests (R-ACCOUNT-1)."""

    column_list = (
        "username",
        "display_name",
        "role",
        "division",
        "state",
        "mobile",
        "last_login_at",
    )
    column_details_list = (
        "username",
        "display_name",
        "role",
        "division",
        "state",
        "mobile",
        "locale",
        "last_login_at",
        "created_at",
    )
    column_labels = ACCOUNT_LABELS
    column_searchable_list = ("username", "display_name")
    column_sortable_list = ("username", "last_login_at", "created_at")
    column_default_sort = ("username", False)
    column_filters = (
        FilterEqual(User.role_code, _l("角色"), options=_role_options),
        FilterEqual(User.state, _l("状态"), options=choices("user_state")),
        IntEqualFilter(User.division_id, _l("版块"), options=division_options),
    )
    column_formatters = {
        "state": fmt.enum("user_state", "state"),
        "mobile": fmt.masked_mobile_for_readers,  # R-AUDIT-2: a division admin needs no number
        "last_login_at": _last_login,
    }
    presets = (
        ("all", _l("全部账号")),
        ("dormant", _l("休眠账号（%(days)s天未登录）", days=DORMANT_DAYS)),
    )

    def preset_filter(self, code):
        return dormant() if code == "dormant" else None


# -- the audit log ---------------------------------------------------------------------------
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Ids in the log that the page shows by name (users only when in the viewer's scope).
USER_FIELDS = {
    "owner_id",
    "previous_owner_id",
    "created_by_id",
    "handler_id",
    "instruction_by_id",
    "new_owner_id",
    "target_user_id",
    "handover_to_id",
}
LOOKUP_FIELDS = {
    "division_id": Division,
    "grade_id": Grade,
    "industry_id": Industry,
    "source_id": Source,
    "stage_id": Stage,
    "lost_reason_id": LostReason,
    "feedback_reason_id": FeedbackReason,
    "type_id": ServiceType,
    "priority_id": ServicePriority,
}
FIELD_LABELS = {
    **CUSTOMER_LABELS,
    **COMMON_LABELS,
    **ACCOUNT_LABELS,
    "title": _l("标题"),
    "amount": _l("金额"),
    "stage": _l("阶段"),
    "role_code": _l("角色"),
    "subject": _l("主题"),
    "instruction": _l("领导批示"),
    "shared_with": _l("共享给"),
    "can_edit": _l("允许编辑"),
    "until": _l("共享截止"),
}


def _field_label(key: str) -> str:
    if key in FIELD_LABELS:
        return str(FIELD_LABELS[key])
    if key.endswith("_id") and key[:-3] in FIELD_LABELS:
        return str(FIELD_LABELS[key[:-3]])
    return key


def _value_text(key: str, value) -> str:
    """One logged value as a reader wants it: names for ids, 是/否, mobiles masked."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if key in USER_FIELDS and isinstance(value, int):
        user = scope.get_visible(db.session, User, value, current_user)
        return user.display_name if user is not None else f"#{value}"
    if key in LOOKUP_FIELDS and isinstance(value, int):
        row = db.session.get(LOOKUP_FIELDS[key], value)
        return row.name if row is not None else f"#{value}"
    text = str(value)
    if key in MASKED_FIELDS:
        return mask_mobile(text)
    # A mobile under any other name (a username, a remark) is masked too (R-AUDIT-2).
    return MOBILE_RE.sub(lambda m: mask_mobile(m.group(0)), text)


def readable_changes(raw: str | None) -> list[tuple[str, str, str]]:
    """The JSON {field: [old, new]} of an entry as (label, old, new) lines."""
    if not raw:
        return []
    try:
        changes = json.loads(raw)
    except ValueError:
        return [("", "", _value_text("", raw))]
    if not isinstance(changes, dict):
        return [("", "", _value_text("", json.dumps(changes, ensure_ascii=False)))]
    lines = []
    for key, pair in changes.items():
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        lines.append((_field_label(key), _value_text(key, old), _value_text(key, new)))
    return lines


class AuditLogView(PortalModelView):
    """操作日志 (R-AUDIT-1): read-only, by scope; changes as 字段: 旧 → 新, mobiles masked."""

    list_template = "admin/accounts/audit_list.html"
    details_template = "admin/accounts/audit_details.html"
    column_list = ("at", "user", "division", "action", "model", "summary", "changes", "ip")
    column_details_list = (
        "at",
        "user",
        "division",
        "action",
        "model",
        "record_id",
        "summary",
        "changes",
        "ip",
    )
    column_labels = {
        "at": _l("时间"),
        "user": _l("操作人"),
        "action": _l("操作"),
        "model": _l("对象"),
        "record_id": _l("记录ID"),
        "summary": _l("摘要"),
        "changes": _l("变更内容"),
        "ip": _l("IP"),
        "division": _l("版块"),
    }
    column_formatters = {
        "action": fmt.enum("audit_action", "action"),
        "model": fmt.enum("audit_model", "model"),
        "summary": lambda view, context, model, name: _value_text("summary", model.summary),
        "changes": macro("render_changes"),
    }
    column_searchable_list = ("summary",)
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    column_filters = (
        FilterEqual(AuditLog.action, _l("操作"), options=choices("audit_action")),
        FilterEqual(AuditLog.model, _l("对象"), options=choices("audit_model")),
        IntEqualFilter(AuditLog.user_id, _l("操作人"), options=user_options),
        IntEqualFilter(AuditLog.division_id, _l("版块"), options=division_options),
        DateTimeBetweenFilter(AuditLog.at, _l("时间")),
    )

    def change_lines(self, model) -> list[tuple[str, str, str]]:
        return readable_changes(model.changes)


class LoginLogView(PortalModelView):
    """登录日志 (R-AUDIT-1): every sign-in attempt with its IP, by the account's division."""

    column_list = ("at", "username", "user", "success", "reason", "ip")
    column_details_list = column_list
    column_labels = {
        "at": _l("时间"),
        "username": _l("用户名"),
        "user": _l("姓名"),
        "success": _l("成功"),
        "reason": _l("结果"),
        "ip": _l("IP"),
    }
    column_formatters = {"reason": fmt.enum("login_reason", "reason")}
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    column_searchable_list = ("username",)
    column_filters = (
        BooleanEqualFilter(LoginLog.success, _l("成功")),
        FilterEqual(LoginLog.reason, _l("结果"), options=choices("login_reason")),
        DateTimeBetweenFilter(LoginLog.at, _l("时间")),
    )
