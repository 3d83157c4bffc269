"""Accounts, approval requests and the logs (R-ACCOUNT, R-AUDIT)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import (
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import lazy_gettext as _l

from portal.i18n import choices
from portal.models import AuditLog, LoginLog, User
from portal.views import formatters as fmt
from portal.views.base import PortalModelView
from portal.views.options import division_options, user_options

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


class UserView(PortalModelView):
    """Accounts are read here; they change only through account requests (R-ACCOUNT-1)."""

    can_export = False
    column_list = ("username", "display_name", "role", "division", "state", "last_login_at")
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
    column_sortable_list = ("username", "last_login_at")
    column_default_sort = ("username", False)
    column_filters = (
        FilterEqual(User.state, _l("状态"), options=choices("user_state")),
        IntEqualFilter(User.division_id, _l("版块"), options=division_options),
    )
    column_formatters = {"state": fmt.enum("user_state", "state")}


class AuditLogView(PortalModelView):
    can_export = False
    column_list = ("at", "user", "action", "model", "record_id", "summary", "ip")
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
    column_searchable_list = ("summary", "action")
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    column_filters = (
        FilterEqual(AuditLog.action, _l("操作")),
        IntEqualFilter(AuditLog.user_id, _l("操作人"), options=user_options),
        DateTimeBetweenFilter(AuditLog.at, _l("时间")),
    )


class LoginLogView(PortalModelView):
    can_export = False
    column_list = ("at", "username", "success", "reason", "ip")
    column_labels = {
        "at": _l("时间"),
        "username": _l("用户名"),
        "success": _l("成功"),
        "reason": _l("结果"),
        "ip": _l("IP"),
    }
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    column_searchable_list = ("username",)
    column_filters = (DateTimeBetweenFilter(LoginLog.at, _l("时间")),)
