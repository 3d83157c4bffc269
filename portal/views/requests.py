"""Account requests (审批表) and cross-division transfer requests (R-ACCOUNT-1/5/6)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.views import formatters as fmt
from portal.views.base import PortalModelView


class AccountRequestView(PortalModelView):
    column_list = (
        "number",
        "change_type",
        "person_name",
        "division",
        "requested_role",
        "state",
        "applicant",
        "created_at",
    )
    column_labels = {
        "number": _l("编号"),
        "change_type": _l("变更类型"),
        "person_name": _l("人员姓名"),
        "division": _l("版块"),
        "requested_role": _l("申请角色"),
        "state": _l("状态"),
        "applicant": _l("申请人"),
        "created_at": _l("创建时间"),
    }
    column_formatters = {
        "state": fmt.enum("request_state", "state"),
        "change_type": fmt.enum("account_change", "change_type"),
    }


class TransferRequestView(PortalModelView):
    column_list = (
        "number",
        "from_division",
        "to_division",
        "new_owner",
        "state",
        "applicant",
        "created_at",
    )
    column_labels = {
        "number": _l("编号"),
        "from_division": _l("转出版块"),
        "to_division": _l("转入版块"),
        "new_owner": _l("新负责人"),
        "state": _l("状态"),
        "applicant": _l("申请人"),
        "created_at": _l("创建时间"),
    }
    column_formatters = {"state": fmt.enum("request_state", "state")}
