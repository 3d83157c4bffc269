"""Reports under /admin/reports/ (R-REPORT-1..7) and the customer profile sheet (R-REPORT-6).

Who may open what: division heads, division admins, group management and sysadmins open
every report; a clerk opens only the follow-up compliance report, fixed to his own line
(his own figures tell him nothing about colleagues), and gets 404 on the others. Division
roles are fixed to their division; group management may pick one or see all. The clerk
filter offers only people in the viewer's scope; anything else in the URL answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.model.template import EndpointLinkRowAction
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal import scope
from portal.clock import now
from portal.extensions import db
from portal.i18n import label
from portal.models import Division, User
from portal.pdf import render_pdf
from portal.permissions import can, can_action
from portal.services.audit import mask_mobile, record_event
from portal.services.reports import ReportFilter, customer_profiles, last_month
from portal.views.report_sheets import REPORTS, ReportSpec

MAX_PERIOD_DAYS = 3 * 366
MAX_PROFILES = 100  # one bulk print; a list page shows at most 100 rows


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        abort(404)
    return int(text)


@dataclass
class ReportQuery:
    """The viewer's choice of period, division and clerk, checked against his scope."""

    spec: ReportSpec
    filter: ReportFilter
    divisions: list[tuple[int, str]] = field(default_factory=list)  # offered (global roles)
    clerks: list[tuple[int, str]] = field(default_factory=list)
    division_name: str = ""
    clerk_name: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # report-specific (by, province)

    @property
    def args(self) -> dict[str, str]:
        args = {"start": self.filter.start.isoformat(), "end": self.filter.end.isoformat()}
        if self.divisions and self.filter.division_id is not None:
            args["division"] = str(self.filter.division_id)
        if self.clerks and self.filter.clerk_id is not None:
            args["clerk"] = str(self.filter.clerk_id)
        return {**args, **self.extra}

    def link(self, **changes) -> str:
        """This report's URL with some arguments changed (None removes one)."""
        args = {**self.args, **changes}
        return url_for(
            "reports.report", code=self.spec.name, **{k: v for k, v in args.items() if v}
        )

    @property
    def pdf_url(self) -> str:
        return url_for("reports.report_pdf", code=self.spec.name, **self.args)

    @property
    def scope_text(self) -> str:
        if not self.spec.division_wide and current_user.role_code == "clerk":
            return gettext("本人")
        if scope.sees_all(current_user):
            return gettext("全集团")
        return gettext("本版块")

    @property
    def period_text(self) -> str:
        return f"{self.filter.start.isoformat()} ~ {self.filter.end.isoformat()}"


def parse_query(spec: ReportSpec, args) -> ReportQuery:
    """Period (default: last month), division and clerk from the URL, within scope."""
    user = current_user._get_current_object()
    default_start, default_end = last_month(now().date())
    start = _day(args.get("start")) or default_start
    end = _day(args.get("end")) or default_end
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_PERIOD_DAYS))

    divisions: list[tuple[int, str]] = []
    asked = _int(args.get("division"))
    if scope.sees_all(user):
        divisions = list(
            db.session.execute(select(Division.id, Division.name).order_by(Division.id))
        )
        if asked is not None and asked not in dict(divisions):
            abort(404)
        division_id = asked
    else:
        if asked is not None and asked != user.division_id:
            abort(404)
        division_id = user.division_id

    own_line = not spec.division_wide and user.role_code == "clerk"
    clerks: list[tuple[int, str]] = []
    asked_clerk = _int(args.get("clerk"))
    if own_line:
        if asked_clerk is not None and asked_clerk != user.id:
            abort(404)
        clerk_id = user.id
    else:
        people = select(User.id, User.display_name).where(
            scope.visible(User, user),
            User.division_id.is_not(None),
            User.role_code.in_(("clerk", "division_head")),
        )
        if division_id is not None:
            people = people.where(User.division_id == division_id)
        clerks = list(db.session.execute(people.order_by(User.division_id, User.id)))
        if asked_clerk is not None and asked_clerk not in dict(clerks):
            abort(404)
        clerk_id = asked_clerk

    division_name = (
        db.session.get(Division, division_id).name
        if division_id is not None
        else gettext("全部版块")
    )
    clerk_name = user.display_name if own_line else dict(clerks).get(clerk_id, gettext("全部人员"))
    extra = {k: args[k] for k in ("by", "province") if args.get(k)}
    return ReportQuery(
        spec=spec,
        filter=ReportFilter(user, start, end, division_id, clerk_id),
        divisions=divisions,
        clerks=clerks,
        division_name=division_name,
        clerk_name=clerk_name,
        extra=extra,
    )


def may_open(spec: ReportSpec, user) -> bool:
    if spec.division_wide:
        return can_action(user, "reports", "division")
    return can(user, "reports", "read")


class ReportsView(BaseView):
    """报表: every report as a page with a table and a chart, and as a PDF."""

    def is_accessible(self) -> bool:
        return can(current_user, "reports", "read")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(404)

    def _spec(self, code: str) -> ReportSpec:
        spec = REPORTS.get(code)
        if spec is None or not may_open(spec, current_user):
            abort(404)
        return spec

    @expose("/")
    def index(self):
        specs = [s for s in REPORTS.values() if may_open(s, current_user)]
        return self.render("admin/reports/index.html", specs=specs)

    @expose("/<code>/")
    def report(self, code):
        spec = self._spec(code)
        query = parse_query(spec, request.args)
        sheet = spec.build(db.session, query.filter, query.extra, query.link)
        return self.render(
            "admin/reports/report.html",
            spec=spec,
            query=query,
            sheet=sheet,
            may_print=can_action(current_user, "reports", "print"),
        )

    @expose("/<code>/pdf")
    def report_pdf(self, code):
        spec = self._spec(code)
        if not can_action(current_user, "reports", "print"):
            abort(404)
        query = parse_query(spec, request.args)
        sheet = spec.build(db.session, query.filter, query.extra, query.link)
        printed_at = now()
        document = render_pdf(
            "pdf/report.html",
            spec=spec,
            query=query,
            sheet=sheet,
            printed_by=current_user,
            printed_at=printed_at,
        )
        record_event(
            db.session,
            "print",
            None,
            user=current_user._get_current_object(),
            ip=request.remote_addr,
            model_name="Report",
            summary=f"{spec.title} · {query.division_name} · {query.clerk_name} · "
            f"{query.period_text}",
            division_id=query.filter.division_id,
        )
        db.session.commit()
        filename = f"report-{spec.name}-{query.filter.start:%Y%m%d}-{query.filter.end:%Y%m%d}.pdf"
        return Response(
            document,
            mimetype="application/pdf",
            headers={"Content-Disposition": f"inline; filename={filename}"},
        )


# -- the customer profile sheet (R-REPORT-6), mixed into CustomerView --------------------


def _masked(user):
    """Read-only roles see masked mobiles on paper as on screen (R-AUDIT-2)."""
    if user.role_code == "division_admin":
        return mask_mobile
    return lambda value: value


class CustomerProfilePrint:
    """打印客户档案: from a customer's details page (a tab) and as a bulk action on the
    selected customers (one PDF, a page break between customers). Only customers the view
    shows to the user are printed; each printed customer is logged (R-AUDIT-1)."""

    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-print", ".profile_pdf", title=_l("打印客户档案"))
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Wrap whatever details page the view has, to add the print tab to it.
        self.profile_base_template = self.details_template
        self.details_template = "admin/reports/customer_details.html"

    def may_print_profile(self) -> bool:
        return self.permission == "customer" and can_action(
            current_user, "customer", "print_profile"
        )

    def is_action_allowed(self, name: str) -> bool:
        if name == "print_profile":
            return self.may_print_profile()
        return super().is_action_allowed(name)

    @expose("/<int:id>/profile.pdf")
    def profile_pdf(self, id):
        if not self.may_print_profile():
            abort(404)
        customer = self.get_one(id)
        return self._profile_response([customer.id], filename=f"customer-{customer.id}.pdf")

    @action("print_profile", _l("打印客户档案"))
    def action_print_profile(self, ids):
        if len(ids) > MAX_PROFILES:
            flash(gettext("一次最多打印 %(n)s 位客户的档案", n=MAX_PROFILES), "error")
            return None
        chosen = {c.id for c in self.get_in_scope(ids, for_edit=False)}
        ordered = [int(i) for i in ids if int(i) in chosen]
        if not ordered:
            flash(gettext("所选客户不在您的可见范围内"), "error")
            return None
        return self._profile_response(ordered, filename=f"customers-{now():%Y%m%d-%H%M%S}.pdf")

    def _profile_response(self, ids, *, filename: str) -> Response:
        user = current_user._get_current_object()
        profiles = customer_profiles(db.session, user, ids)
        if not profiles:
            abort(404)
        printed_at = now()
        document = render_pdf(
            "pdf/customer_profile.html",
            profiles=profiles,
            printed_by=user,
            printed_at=printed_at,
            mask=_masked(user),
            label=label,
        )
        for profile in profiles:
            record_event(
                db.session,
                "print",
                profile.customer,
                user=user,
                ip=request.remote_addr,
                summary=gettext("客户档案：%(name)s", name=profile.customer.name),
            )
        db.session.commit()
        return Response(
            document,
            mimetype="application/pdf",
            headers={"Content-Disposition": f"inline; filename={filename}"},
        )
