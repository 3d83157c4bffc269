"""Lookup data (基础数据), edited by sysadmin only (permissions row `lookups`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.views.base import PortalModelView

LOOKUP_LABELS = {
    "code": _l("编码"),
    "name": _l("名称"),
    "sort_order": _l("排序"),
    "active": _l("启用"),
    "follow_up_days": _l("最长跟进间隔(天)"),
    "description": _l("说明"),
    "probability": _l("赢率(%)"),
    "outcome": _l("结果"),
    "trigger": _l("触发事件"),
    "rule": _l("计算规则"),
    "offset": _l("偏移量"),
    "subject": _l("回访主题"),
    "response_hours": _l("响应时限(小时)"),
    "resolve_hours": _l("解决时限(小时)"),
    "needs_referrer": _l("需填推荐客户"),
    "needs_introducer": _l("需填介绍人"),
}


class LookupView(PortalModelView):
    permission = "lookups"
    column_labels = LOOKUP_LABELS
    column_default_sort = ("sort_order", False)
    column_searchable_list = ("code", "name")
    can_view_details = False
    form_excluded_columns = ()
    form_extra_fields = {}

    def scope_criterion(self, *, for_edit: bool = False, counting: bool = False):
        from sqlalchemy import true

        return true()  # lookup tables are shared by every division

    def on_model_change(self, form, model, is_created):
        pass  # no division, owner or version on lookups

    def check_write_scope(self, model):
        pass
