"""Marketing campaigns (市场活动)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal import scope
from portal.extensions import db
from portal.services.campaigns import CampaignResults, campaign_results
from portal.views import formatters as fmt
from portal.views.base import PortalModelView
from portal.views.children import COMMON_LABELS


class CampaignView(PortalModelView):
    """市场活动; the details page adds what the campaign brought (R-REPORT-7)."""

    details_template = "admin/campaign_details.html"
    column_list = ("name", "theme", "channel", "starts_on", "ends_on", "budget", "actual_cost")
    column_labels = {
        **COMMON_LABELS,
        "name": _l("活动名称"),
        "theme": _l("主题"),
        "target_group": _l("目标人群"),
        "channel": _l("渠道"),
        "starts_on": _l("开始日期"),
        "ends_on": _l("结束日期"),
        "budget": _l("预算"),
        "actual_cost": _l("实际成本"),
    }
    column_searchable_list = ("name", "theme")
    column_formatters = {"budget": fmt.money, "actual_cost": fmt.money}
    form_columns = (
        "name",
        "theme",
        "target_group",
        "channel",
        "starts_on",
        "ends_on",
        "budget",
        "actual_cost",
    )

    def on_model_change(self, form, model, is_created):
        if model.starts_on and model.ends_on and model.ends_on < model.starts_on:
            raise ValidationError(_l("结束日期不能早于开始日期"))
        if is_created and scope.sees_all(current_user):
            raise ValidationError(_l("集团人员请在版块内创建活动"))
        super().on_model_change(form, model, is_created)

    def results(self, model) -> CampaignResults:
        """Leads, conversions, revenue and ROI, as far as the viewer's scope goes."""
        return campaign_results(db.session, current_user._get_current_object(), model)
