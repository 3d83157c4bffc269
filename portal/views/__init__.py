"""init_admin(app): the whole menu in one place."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from portal import models as m
from portal.views.accounts import AuditLogView, LoginLogView, UserView
from portal.views.activities import ActivityView
from portal.views.campaigns import CampaignView
from portal.views.contacts import ContactView
from portal.views.customers import CustomerView, PoolView
from portal.views.dashboard import DashboardView
from portal.views.leads import LeadView
from portal.views.lookups import LookupView
from portal.views.opportunities import OpportunityView
from portal.views.orders import OrderView
from portal.views.regions import RegionsView
from portal.views.reports import ReportsView
from portal.views.requests import AccountRequestView, TransferRequestView
from portal.views.service import ServiceRequestView

CRM, SERVICE, ADMIN, LOOKUPS = _l("客户管理"), _l("客户服务"), _l("系统管理"), _l("基础数据")

LOOKUP_MENU = [
    (m.Grade, "grade", _l("客户等级")),
    (m.Industry, "industry", _l("行业")),
    (m.Source, "source", _l("客户来源")),
    (m.CompanyNature, "company_nature", _l("公司性质")),
    (m.RevenueBand, "revenue_band", _l("年营业额区间")),
    (m.EmployeeBand, "employee_band", _l("员工人数区间")),
    (m.Stage, "stage", _l("商机阶段")),
    (m.LostReason, "lost_reason", _l("输单原因")),
    (m.ServiceType, "service_type", _l("服务类型")),
    (m.ServicePriority, "service_priority", _l("服务优先级")),
    (m.FeedbackReason, "feedback_reason", _l("客户反馈原因")),
    (m.FollowupTemplate, "followup_template", _l("回访模板")),
]


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name=_l("CRM 业务平台"),
        url="/admin",
        index_view=DashboardView(name=_l("工作台"), url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/portal_master.html", fluid=True),
    )
    admin.add_view(CustomerView(m.Customer, _l("客户"), CRM, endpoint="customer"))
    admin.add_view(PoolView(m.Customer, _l("公海"), CRM, endpoint="pool"))
    admin.add_view(ContactView(m.Contact, _l("联系人"), CRM, endpoint="contact"))
    admin.add_view(LeadView(m.Lead, _l("线索"), CRM, endpoint="lead"))
    admin.add_view(OpportunityView(m.Opportunity, _l("商机"), CRM, endpoint="opportunity"))
    admin.add_view(ActivityView(m.Activity, _l("行动与回访"), CRM, endpoint="activity"))
    admin.add_view(OrderView(m.Order, _l("订单"), CRM, endpoint="order"))
    admin.add_view(
        ServiceRequestView(m.ServiceRequest, _l("客户服务"), SERVICE, endpoint="service_request")
    )
    admin.add_view(CampaignView(m.Campaign, _l("市场活动"), SERVICE, endpoint="campaign"))
    admin.add_view(ReportsView(name=_l("报表"), endpoint="reports", url="/admin/reports"))
    admin.add_view(UserView(m.User, _l("账号"), ADMIN, endpoint="user"))
    admin.add_view(
        AccountRequestView(m.AccountRequest, _l("账号审批表"), ADMIN, endpoint="account_request")
    )
    admin.add_view(
        TransferRequestView(
            m.TransferRequest, _l("跨版块分配申请"), ADMIN, endpoint="transfer_request"
        )
    )
    admin.add_view(AuditLogView(m.AuditLog, _l("操作日志"), ADMIN, endpoint="audit_log"))
    admin.add_view(LoginLogView(m.LoginLog, _l("登录日志"), ADMIN, endpoint="login_log"))
    for model, endpoint, name in LOOKUP_MENU:
        admin.add_view(LookupView(model, name, LOOKUPS, endpoint=endpoint))
    admin.add_view(RegionsView(name=_l("地区"), endpoint="regions", url="/admin/regions"))
    admin.add_link(MenuLink(name=_l("修改密码"), url="/password", category=_l("我的账号")))
    return admin
