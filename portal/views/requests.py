"""Account requests (审批表) and cross-division transfer requests (R-ACCOUNT-1/5/6).

The views declare lists and forms; every step of the workflow is a POST route that
loads the request within scope (404 otherwise), calls portal/services/accounts.py,
commits and flashes. Nothing changes when a rule refuses.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model.template import (
    BaseListRowAction,
    DeleteRowAction,
    EditRowAction,
    EndpointLinkRowAction,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms import TextAreaField

from portal import scope
from portal.clock import now
from portal.extensions import db
from portal.i18n import choices, label
from portal.models import (
    DIVISION_ROLES,
    AccountRequest,
    Customer,
    Division,
    Role,
    TransferRequest,
    User,
)
from portal.pdf import render_pdf
from portal.services import BusinessRuleError
from portal.services import accounts as workflow
from portal.services.audit import record_event
from portal.services.handover import RECEIVING_ROLES
from portal.views import formatters as fmt
from portal.views.base import PortalModelView, ScopedAjaxLoader

WORKFLOW_VERBS = ("submit", "approve", "reject", "execute")
NUMBERING_RETRIES = 3

COMMON_LABELS = {
    "number": _l("编号"),
    "state": _l("状态"),
    "reason": _l("申请理由"),
    "applicant": _l("申请人"),
    "created_at": _l("创建时间"),
    "submitted_at": _l("提交时间"),
    "decided_by": _l("审批人"),
    "decided_at": _l("审批时间"),
    "decision_note": _l("审批意见"),
    "executed_by": _l("执行人"),
    "executed_at": _l("执行时间"),
}


# -- formatters ---------------------------------------------------------------------
def _user_with_login(view, context, model, name):
    user = getattr(model, name)
    return f"{user.display_name}（{user.username}）" if user is not None else ""


def _handover(view, context, model, name):
    if model.change_type != "deactivate":
        return ""
    return _user_with_login(view, context, model, name) or _l("本版块公海")


def _new_owner(view, context, model, name):
    return model.new_owner.display_name if model.new_owner is not None else _l("转入版块公海")


def _customer_names(view, context, model, name):
    return "、".join(c.name for c in sorted(model.customers, key=lambda c: c.id))


def _executed_by(view, context, model, name):
    user = db.session.get(User, model.executed_by_id) if model.executed_by_id else None
    return user.display_name if user is not None else ""


# -- form choices, bounded by scope (R-SCOPE-4) --------------------------------------------
def _target_users():
    return (
        db.session.query(User)
        .filter(
            scope.visible(User, current_user),
            User.division_id.is_not(None),
            User.state != "deactivated",
            User.id != current_user.id,
        )
        .order_by(User.division_id, User.username)
    )


def _receivers():
    return (
        db.session.query(User)
        .filter(
            scope.visible(User, current_user),
            User.state == "active",
            User.role_code.in_(RECEIVING_ROLES),
        )
        .order_by(User.division_id, User.username)
    )


def _division_roles():
    return db.session.query(Role).filter(Role.code.in_(DIVISION_ROLES)).order_by(Role.sort_order)


def _other_divisions():
    return (
        db.session.query(Division)
        .filter(Division.id != current_user.division_id)
        .order_by(Division.id)
    )


class _WhenOwnDraft(BaseListRowAction):
    """Edit/delete icons only on the current user's own drafts."""

    def __init__(self, inner: BaseListRowAction):
        super().__init__(inner.title)
        self.inner = inner

    def render(self, context, row_id, row):
        if not workflow.may(row, "edit", current_user):
            return ""
        return self.inner.render(context, row_id, row)


class RequestWorkflowView(PortalModelView):
    """Lists, drafts and the workflow routes shared by both kinds of request."""

    details_template = "admin/requests/details.html"
    form_extra_fields: dict = {}  # no optimistic-lock field: only the applicant edits a draft
    print_template = ""
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-print", ".print_view", title=_l("打印审批表"))
    ]

    # -- what the current user is offered -------------------------------------------------
    def offered_verbs(self, model) -> list[str]:
        user = current_user._get_current_object()
        return [
            verb
            for verb in WORKFLOW_VERBS
            if self.is_action_allowed(verb) and workflow.may(model, verb, user)
        ]

    def may_edit(self, model) -> bool:
        return self.can_edit and workflow.may(model, "edit", current_user)

    def may_delete(self, model) -> bool:
        return self.can_delete and workflow.may(model, "delete", current_user)

    def owner_choices(self, model) -> list[User]:
        return []

    def get_list_row_actions(self):
        return [
            _WhenOwnDraft(action) if isinstance(action, EditRowAction | DeleteRowAction) else action
            for action in super().get_list_row_actions()
        ]

    # -- drafts --------------------------------------------------------------------------
    def on_form_prefill(self, form, id):
        pass

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if getattr(form, "division", None) is not None:
            del form.division  # the number and the approver depend on it: fixed at filing
        return form

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        pk = request.args.get("id")
        if pk is not None:
            model = self.get_one(pk)
            if not workflow.may(model, "edit", current_user):
                flash(gettext("只有申请人可以修改自己的草稿"), "error")
                return redirect(self.get_url(".details_view", id=model.id))
        return super().edit_view()

    def file(self, form):
        """Create the request through the service; subclasses say which one."""
        raise NotImplementedError

    def revise(self, form, model):
        raise NotImplementedError

    def create_model(self, form):
        for attempt in range(NUMBERING_RETRIES):
            try:
                model = self.file(form)
                db.session.commit()
            except BusinessRuleError as error:
                db.session.rollback()
                flash(str(error), "error")
                return False
            except IntegrityError:
                # Two requests took the same number at once: the next try numbers anew.
                db.session.rollback()
                if attempt == NUMBERING_RETRIES - 1:
                    flash(gettext("保存失败：编号冲突，请重试"), "error")
                    return False
            else:
                return model
        return False

    def update_model(self, form, model):
        try:
            self.revise(form, model)
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
            return False
        return True

    def on_model_delete(self, model):
        workflow.check_may(model, "delete", current_user._get_current_object())
        super().on_model_delete(model)

    # -- the workflow ---------------------------------------------------------------------
    @expose("/<id>/submit", methods=("POST",))
    def submit_view(self, id):
        return self._step(id, "submit")

    @expose("/<id>/approve", methods=("POST",))
    def approve_view(self, id):
        return self._step(id, "approve", note=request.form.get("note"), **self._approval_extras())

    @expose("/<id>/reject", methods=("POST",))
    def reject_view(self, id):
        return self._step(id, "reject", note=request.form.get("note"))

    @expose("/<id>/execute", methods=("POST",))
    def execute_view(self, id):
        return self._step(id, "execute")

    def _approval_extras(self) -> dict:
        return {}

    def _step(self, id, verb: str, **kwargs):
        model = self.get_one(id)
        pk = model.id
        details = self.get_url(".details_view", id=pk)
        if not self.is_action_allowed(verb):
            flash(gettext("您的角色不能%(verb)s此申请", verb=workflow.VERB_LABELS[verb]), "error")
            return redirect(details)
        operation = getattr(workflow, verb)
        try:
            outcome = operation(
                db.session,
                model,
                by=current_user._get_current_object(),
                ip=request.remote_addr,
                **kwargs,
            )
            message = self.done_message(model, verb, outcome)
            db.session.commit()
        except BusinessRuleError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(message, "success")
        return redirect(details)

    def done_message(self, model, verb: str, outcome) -> str:
        return str(
            _l(
                "%(number)s 已%(verb)s",
                number=model.number,
                verb=workflow.VERB_LABELS[verb],
            )
        )

    # -- printing (R-ACCOUNT-2/6) -----------------------------------------------------------
    def print_context(self, model) -> dict:
        return {}

    @expose("/<id>/print")
    def print_view(self, id):
        model = self.get_one(id)
        if not self.is_action_allowed("print"):
            abort(404)
        document = render_pdf(
            self.print_template,
            req=model,
            company=current_app.config["PORTAL_COMPANY_NAME"],
            state_label=label("request_state", model.state),
            decision_label=workflow.decision_label(model),
            executor=db.session.get(User, model.executed_by_id) if model.executed_by_id else None,
            printed_by=current_user,
            printed_at=now(),
            **self.print_context(model),
        )
        record_event(
            db.session,
            "print",
            model,
            user=current_user._get_current_object(),
            ip=request.remote_addr,
        )
        db.session.commit()
        return Response(
            document,
            mimetype="application/pdf",
            headers={"Content-Disposition": f"inline; filename={model.number}.pdf"},
        )


class AccountRequestView(RequestWorkflowView):
    """信息系统用户管理及权限变更审批表 (R-ACCOUNT-1/2/3/6)."""

    print_template = "pdf/account_request.html"
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
    column_details_list = (
        "number",
        "state",
        "division",
        "change_type",
        "person_name",
        "username",
        "target_user",
        "requested_role",
        "handover_to",
        "reason",
        "applicant",
        "created_at",
        "submitted_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "executed_by",
        "executed_at",
    )
    column_labels = {
        **COMMON_LABELS,
        "change_type": _l("变更类型"),
        "person_name": _l("人员姓名"),
        "division": _l("版块"),
        "username": _l("用户名"),
        "target_user": _l("变更账号"),
        "requested_role": _l("申请角色"),
        "handover_to": _l("客户交接给"),
    }
    column_formatters = {
        "state": fmt.enum("request_state", "state"),
        "change_type": fmt.enum("account_change", "change_type"),
        "target_user": _user_with_login,
        "handover_to": _handover,
        "applicant": _user_with_login,
        "decided_by": _user_with_login,
        "executed_by": _user_with_login,
    }
    column_searchable_list = ("number", "person_name", "username")
    column_filters = (
        FilterEqual(AccountRequest.state, _l("状态"), options=choices("request_state")),
        FilterEqual(AccountRequest.change_type, _l("变更类型"), options=choices("account_change")),
    )
    column_sortable_list = ("number", "created_at")
    form_columns = (
        "division",
        "change_type",
        "person_name",
        "username",
        "target_user",
        "requested_role",
        "handover_to",
        "reason",
    )
    form_choices = {"change_type": choices("account_change")}
    form_overrides = {"reason": TextAreaField}
    form_args = {
        "username": {"description": _l("新建账号时填写：3–50 位小写字母、数字、点或下划线")},
        "target_user": {
            "query_factory": _target_users,
            "description": _l("角色变更、冻结、解冻、停用时选择本版块的账号"),
        },
        "requested_role": {
            "query_factory": _division_roles,
            "description": _l("新建账号或角色变更时选择"),
        },
        "handover_to": {
            "query_factory": _receivers,
            "description": _l("停用时名下客户交给谁；不选则转入本版块公海"),
        },
    }

    def _fields(self, form) -> dict:
        return {
            "change_type": form.change_type.data,
            "person_name": form.person_name.data,
            "username": form.username.data,
            "target_user": form.target_user.data,
            "requested_role": form.requested_role.data,
            "reason": form.reason.data,
            "handover_to": form.handover_to.data,
        }

    def file(self, form):
        field = getattr(form, "division", None)  # only global roles choose the division
        division = field.data if field is not None else None
        return workflow.new_account_request(
            db.session,
            by=current_user._get_current_object(),
            division=division,
            ip=request.remote_addr,
            **self._fields(form),
        )

    def revise(self, form, model):
        workflow.revise_account_request(
            db.session,
            model,
            by=current_user._get_current_object(),
            ip=request.remote_addr,
            **self._fields(form),
        )

    def done_message(self, model, verb, outcome):
        if verb == "execute" and outcome.temporary_password:
            return str(
                _l(
                    "%(number)s 已执行，账号 %(user)s 已创建。临时密码：%(pw)s"
                    "（只显示这一次，请当面转交本人并提醒其登录后修改）",
                    number=model.number,
                    user=outcome.user.username,
                    pw=outcome.temporary_password,
                )
            )
        if verb == "execute" and model.change_type == "deactivate":
            return str(
                _l(
                    "%(number)s 已执行，账号已停用，%(n)s 位客户已交接",
                    number=model.number,
                    n=outcome.customers_moved,
                )
            )
        return super().done_message(model, verb, outcome)

    def print_context(self, model):
        return {
            "change_label": label("account_change", model.change_type),
            "changes": workflow.account_changes(db.session, model),
        }


class TransferRequestView(RequestWorkflowView):
    """跨版块分配申请 (R-ACCOUNT-5, R-SCOPE-5)."""

    print_template = "pdf/transfer_request.html"
    column_list = (
        "number",
        "from_division",
        "to_division",
        "new_owner",
        "state",
        "applicant",
        "created_at",
    )
    column_details_list = (
        "number",
        "state",
        "from_division",
        "to_division",
        "customers",
        "new_owner",
        "reason",
        "applicant",
        "created_at",
        "submitted_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "executed_at",
    )
    column_labels = {
        **COMMON_LABELS,
        "from_division": _l("转出版块"),
        "to_division": _l("转入版块"),
        "new_owner": _l("新负责人"),
        "customers": _l("客户"),
    }
    column_formatters = {
        "state": fmt.enum("request_state", "state"),
        "new_owner": _new_owner,
        "customers": _customer_names,
        "applicant": _user_with_login,
        "decided_by": _user_with_login,
    }
    column_searchable_list = ("number",)
    column_filters = (
        FilterEqual(TransferRequest.state, _l("状态"), options=choices("request_state")),
    )
    column_sortable_list = ("number", "created_at")
    # The head picks only his own division's customers; the new owner of another
    # division is named by group management at approval (R-SCOPE-1: no foreign picks).
    form_columns = ("customers", "to_division", "reason")
    form_overrides = {"reason": TextAreaField}
    form_args = {
        "to_division": {"query_factory": _other_divisions},
        "customers": {"description": _l("输入客户名称或手机号搜索本版块客户，可多选")},
    }
    form_ajax_refs = {
        "customers": ScopedAjaxLoader(
            "customers", Customer, ["name", "mobile"], placeholder="输入客户名称或手机号"
        )
    }

    def file(self, form):
        return workflow.new_transfer_request(
            db.session,
            by=current_user._get_current_object(),
            customers=form.customers.data or [],
            to_division=form.to_division.data,
            reason=form.reason.data,
            ip=request.remote_addr,
        )

    def revise(self, form, model):
        workflow.revise_transfer_request(
            db.session,
            model,
            by=current_user._get_current_object(),
            customers=form.customers.data or [],
            to_division=form.to_division.data,
            reason=form.reason.data,
            ip=request.remote_addr,
        )

    def owner_choices(self, model):
        """Group management names the receiving owner when approving."""
        return (
            db.session.query(User)
            .filter(
                User.division_id == model.to_division_id,
                User.state == "active",
                User.role_code.in_(RECEIVING_ROLES),
                scope.visible(User, current_user),
            )
            .order_by(User.username)
            .all()
        )

    def _approval_extras(self):
        chosen = request.form.get("new_owner", "")
        if not chosen:
            return {}
        owner = scope.get_visible(db.session, User, chosen, current_user)
        if owner is None:
            abort(404)
        return {"new_owner": owner}

    def done_message(self, model, verb, outcome):
        if verb == "execute":
            return str(
                _l(
                    "%(number)s 已执行，%(n)s 位客户已转入%(division)s",
                    number=model.number,
                    n=outcome.customers_moved,
                    division=model.to_division.name,
                )
            )
        return super().done_message(model, verb, outcome)

    def print_context(self, model):
        return {"lines": workflow.transfer_lines(db.session, model)}
