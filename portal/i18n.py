"""Language: Simplified Chinese by default, English on request, stored per user.

Our own strings are written in Chinese (the users' language) and translated to
English by portal/translations/en; Flask-Admin brings its own zh_Hans_CN catalogue.
"""

from __future__ import annotations

from flask import Flask, has_request_context, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.extensions import babel

SUPPORTED = {"zh_Hans_CN": "简体中文", "en": "English"}
DEFAULT = "zh_Hans_CN"


def select_locale() -> str:
    if not has_request_context():  # CLI, sweep, tests: the default language
        return DEFAULT
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in SUPPORTED:
        return user_locale
    if session.get("locale") in SUPPORTED:
        return session["locale"]
    return DEFAULT


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["SUPPORTED_LOCALES"] = SUPPORTED
    app.jinja_env.globals["get_locale"] = get_locale


# Labels of the enumerations stored as codes (check constraints in the schema).
LABELS: dict[str, dict[str, object]] = {
    "kind": {"company": _l("单位客户"), "person": _l("个人客户")},
    "customer_status": {
        "intent": _l("意向"),
        "following": _l("跟进中"),
        "contract": _l("合同中"),
        "won": _l("成交"),
        "failed": _l("失败"),
    },
    "churn_state": {
        "none": _l("正常"),
        "warning": _l("流失预警"),
        "retained": _l("暂缓流失"),
        "lost": _l("确认流失"),
    },
    "lead_status": {
        "new": _l("新建"),
        "following": _l("跟进中"),
        "converted": _l("已转化"),
        "invalid": _l("无效"),
    },
    "activity_kind": {"plan": _l("回访计划"), "action": _l("一般行动"), "task": _l("任务")},
    "activity_state": {"pending": _l("待办"), "done": _l("已完成"), "cancelled": _l("已取消")},
    "service_status": {
        "new": _l("新建"),
        "assigned": _l("已分配"),
        "handling": _l("处理中"),
        "responded": _l("已反馈"),
        "archived": _l("已归档"),
    },
    "channel": {
        "phone": _l("电话"),
        "web": _l("网上"),
        "social": _l("社交媒体"),
        "email": _l("邮件"),
    },
    "direction": {"inbound": _l("呼入"), "outbound": _l("呼出")},
    "order_state": {"valid": _l("有效"), "cancelled": _l("已取消")},
    "gender": {"male": _l("男"), "female": _l("女"), "unknown": _l("未知")},
    "user_state": {"active": _l("正常"), "frozen": _l("冻结"), "deactivated": _l("停用")},
    "request_state": {
        "draft": _l("草稿"),
        "submitted": _l("已提交"),
        "approved": _l("已批准"),
        "rejected": _l("已驳回"),
        "executed": _l("已执行"),
    },
    "account_change": {
        "create": _l("新建账号"),
        "role_change": _l("角色变更"),
        "freeze": _l("冻结"),
        "unfreeze": _l("解冻"),
        "deactivate": _l("停用"),
    },
    "audit_action": {
        "create": _l("新建"),
        "update": _l("修改"),
        "delete": _l("删除"),
        "export": _l("导出"),
        "print": _l("打印"),
        "share": _l("共享"),
        "unshare": _l("取消共享"),
        "claim": _l("领取"),
        "assign": _l("分配"),
        "release": _l("放入公海"),
        "return": _l("自动回收"),
        "handover": _l("交接"),
        "transfer": _l("跨版块转移"),
        "convert": _l("线索转化"),
        "merge": _l("合并"),
        "reveal": _l("查看号码"),
        "request_submit": _l("提交申请"),
        "request_approve": _l("批准申请"),
        "request_reject": _l("驳回申请"),
        "request_execute": _l("执行申请"),
        # Service requests (R-SERVICE-1/2) and churn (R-CHURN-1), issue #6.
        "service_assign": _l("分配服务单"),
        "service_start": _l("开始处理服务单"),
        "service_resolve": _l("登记处理结果"),
        "service_reopen": _l("服务单退回处理"),
        "service_feedback": _l("登记客户反馈"),
        "service_archive": _l("服务单归档"),
        "churn_retain": _l("暂缓流失"),
        "churn_lose": _l("确认流失"),
        "churn_clear": _l("解除流失预警"),
    },
    "audit_model": {
        "Customer": _l("客户"),
        "Contact": _l("联系人"),
        "Lead": _l("线索"),
        "Opportunity": _l("商机"),
        "Activity": _l("行动与回访"),
        "ServiceRequest": _l("客户服务"),
        "Order": _l("订单"),
        "Campaign": _l("市场活动"),
        "User": _l("账号"),
        "AccountRequest": _l("账号审批表"),
        "TransferRequest": _l("跨版块分配申请"),
    },
    "login_reason": {
        "ok": _l("成功"),
        "unknown_user": _l("用户名不存在"),
        "bad_password": _l("密码错误"),
        "bad_password_locked": _l("密码错误，账号已锁定"),
        "locked": _l("账号锁定中"),
        "frozen": _l("账号已冻结"),
        "deactivated": _l("账号已停用"),
    },
    # OwnershipChange.kind (R-POOL-7), shown in the customer's 360° page.
    "ownership_kind": {
        "create": _l("建档"),
        "claim": _l("领取"),
        "assign": _l("分配"),
        "release": _l("放入公海"),
        "return": _l("自动回收"),
        "handover": _l("交接"),
        "transfer": _l("跨版块转移"),
        "conflict": _l("冲突裁定"),
        "convert": _l("线索转化"),
    },
}


def choices(kind: str) -> list[tuple[str, object]]:
    return list(LABELS[kind].items())


def label(kind: str, code: str | None) -> object:
    if code is None:
        return ""
    return LABELS[kind].get(code, code)
