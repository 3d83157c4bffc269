"""PortalModelView: access from the permission table, row scope, CSRF-safe forms,
optimistic locking and safe export defaults for every model view."""

from __future__ import annotations

import secrets
from types import SimpleNamespace

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.form import BaseForm
from flask_admin.model import template as row_action_types
from flask_admin.model.fields import AjaxSelectField
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import ValidationError

from portal import scope
from portal.clock import now
from portal.export import to_csv, to_xlsx
from portal.extensions import db
from portal.models import Customer, User
from portal.permissions import can, can_action
from portal.search import INDEXED_SEARCHES
from portal.services import BusinessRuleError
from portal.services.audit import record_change, record_event, snapshot
from portal.validation import strip
from portal.views import paging

# Friendly messages for constraint names (the raw database error never reaches a user).
CONSTRAINT_MESSAGES = {
    "uq_customers_division_name": _l("本版块已有同名客户，不能重复建档"),
    "uq_orders_number": _l("订单号已存在"),
}


# Row actions of Flask-Admin whose markup depends on the row's id alone (with what is the
# same for the whole page: the return URL, the delete form and its CSRF token).
SAME_FOR_EVERY_ROW = frozenset(
    {
        row_action_types.ViewRowAction,
        row_action_types.ViewPopupRowAction,
        row_action_types.EditRowAction,
        row_action_types.EditPopupRowAction,
        row_action_types.DeleteRowAction,
        row_action_types.EndpointLinkRowAction,
    }
)


class PortalForm(BaseForm):
    """Every text field is stored trimmed, empty as NULL (R-ENTRY-2)."""

    class Meta(BaseForm.Meta):
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField) and not issubclass(
                unbound_field.field_class, PasswordField
            ):
                filters = [strip, *unbound_field.kwargs.get("filters", ())]
                return unbound_field.bind(form=form, filters=filters, **options)
            if issubclass(unbound_field.field_class, QuerySelectField):
                # WTForms 3.3 shows the raw "__None" when the blank choice has no label.
                return unbound_field.bind(form=form, blank_text=gettext("请选择"), **options)
            return unbound_field.bind(form=form, **options)


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Relation picker that searches as you type, only among rows in the user's scope."""

    def __init__(self, name, model, fields, *, criterion=None, **options):
        options.setdefault("page_size", 20)
        super().__init__(name, db, model, fields=fields, **options)
        self.criterion = criterion  # callable giving an extra filter, e.g. "not in the pool"

    def get_query(self):
        query = db.session.query(self.model).filter(scope.visible(self.model, current_user))
        if self.criterion is not None:
            query = query.filter(self.criterion())
        return query

    def get_one(self, pk):
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            return None
        with db.session.no_autoflush:
            return self.get_query().filter(self.model.id == pk).one_or_none()

    def get_list(self, term, offset=0, limit=20):
        limit = min(int(limit or 20), 50)
        term = (term or "").strip()
        query = self.get_query()
        if term:
            query = query.filter(
                or_(*(f.contains(term, autoescape=True) for f in self._cached_fields))
            )
        return query.order_by(self.model.id.desc()).offset(offset).limit(limit).all()


class PortalModelView(ModelView):
    """Declarations in subclasses; this class holds the rules every view shares."""

    permission: str = ""  # row of portal/permissions.py; defaults to the endpoint
    form_base_class = PortalForm
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    can_view_details = True
    export_max_rows = 10_000
    export_types = ["csv", "xlsx"]
    simple_list_pager = False
    column_display_actions = True
    create_modal = False
    edit_modal = False
    form_excluded_columns = (
        "version",
        "created_at",
        "updated_at",
        "created_by",
        "division",
        "owner",
    )
    form_extra_fields = {"seen_version": HiddenField()}
    column_default_sort = ("id", True)
    # Division roles never pick a division; clerks never pick an owner (scope.py decides).
    owner_field = "owner"
    list_template = "admin/portal_list.html"
    create_template = "admin/portal_create.html"
    edit_template = "admin/portal_edit.html"
    details_template = "admin/portal_details.html"
    presets: tuple[tuple[str, object], ...] = ()

    def __init__(self, model, name=None, category=None, endpoint=None, **kwargs):
        # Flask-Admin only adds extra fields that form_columns names; the version travels always.
        if self.form_columns and "seen_version" in (self.form_extra_fields or {}):
            self.form_columns = (*self.form_columns, "seen_version")
        super().__init__(model, db, name=name, category=category, endpoint=endpoint, **kwargs)
        self.permission = self.permission or self.endpoint

    # -- access ---------------------------------------------------------------
    def _can(self, verb: str) -> bool:
        return can(current_user, self.permission, verb)

    def is_accessible(self) -> bool:
        return self._can("read")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(404)

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self._can("create")

    @can_create.setter
    def can_create(self, value):  # Flask-Admin assigns defaults in __init__
        pass

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self._can("edit")

    @can_edit.setter
    def can_edit(self, value):
        pass

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self._can("delete")

    @can_delete.setter
    def can_delete(self, value):
        pass

    @property
    def can_export(self) -> bool:  # type: ignore[override]
        return self._can("export")

    @can_export.setter
    def can_export(self, value):
        pass

    def is_action_allowed(self, name: str) -> bool:
        if name == "delete":
            return self.can_delete
        return can_action(current_user, self.permission, name)

    def _get_filter_groups(self):
        """Filter options per request: Flask-Admin caches them at start-up, before any user
        is known, so an owner filter would otherwise offer every user (R-SCOPE-4)."""
        if not self._filters:
            return None
        groups: dict[str, list[dict]] = {}
        for index, flt in enumerate(self._filters):
            options = flt.get_options(self) or None
            groups.setdefault(str(flt.name), []).append(
                {
                    "index": index,
                    "arg": self.get_filter_arg(index, flt),
                    "operation": str(flt.operation()),
                    "options": [(k, str(v)) for k, v in options] if options else None,
                    "type": flt.data_type,
                }
            )
        return groups

    # -- scope: every path that loads rows ---------------------------------------
    def scope_criterion(self, *, for_edit: bool = False, counting: bool = False):
        return scope.visible(self.model, current_user, for_edit=for_edit, counting=counting)

    def base_criterion(self):
        """Extra filter of this view (e.g. the pool: customers without owner)."""
        return

    def preset_criterion(self):
        code = request.args.get("preset")
        return self.preset_filter(code) if code else None

    def preset_filter(self, code: str):
        return None

    def _criteria(self, *, for_edit: bool = False, counting: bool = False):
        criteria = [self.scope_criterion(for_edit=for_edit, counting=counting)]
        base = self.base_criterion()
        if base is not None:
            criteria.append(base)
        return and_(*criteria)

    def get_query(self):
        query = db.session.query(self.model).filter(self._criteria())
        preset = self.preset_criterion()
        return query.filter(preset) if preset is not None else query

    def get_count_query(self):
        query = super().get_count_query().filter(self._criteria(counting=True))
        preset = self.preset_criterion()
        return query.filter(preset) if preset is not None else query

    def _get_list_extra_args(self):
        """Page numbers and sizes from the URL are clamped: no negative offsets, no
        page of ten thousand rows."""
        args = super()._get_list_extra_args()
        args.page = max(args.page or 0, 0)
        if args.page_size not in self.page_size_options:
            args.page_size = 0
        return args

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Plain substring match per word, with LIKE wildcards escaped: searching "%"
        finds a "%", not every row. (Own columns only; no joins needed.) A model with a
        search index (portal/search.py: customers) gets the same match through it."""
        indexed = INDEXED_SEARCHES.get(self.model)
        if indexed is not None:
            criterion = indexed(db.session, search)
            if criterion is not None:
                query = query.filter(criterion)
                if count_query is not None:
                    count_query = count_query.filter(criterion)
            return query, count_query, joins, count_joins
        for term in search.split():
            criterion = or_(
                *(field.icontains(term, autoescape=True) for field, _path in self._search_fields)
            )
            query = query.filter(criterion)
            if count_query is not None:
                count_query = count_query.filter(criterion)
        return query, count_query, joins, count_joins

    # -- lists of a million rows (issue #4): bounded count, pages chosen by id -----------
    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's get_list, with the count of portal/views/paging.py and, for a
        page of the list, its ids read from the sort index before its rows are loaded."""
        joins, count_joins = {}, {}
        query, count_query = self.get_query(), self.get_count_query()
        if self._search_supported and search:
            query, count_query, joins, count_joins = self._apply_search(
                query, count_query, joins, count_joins, search
            )
        if filters and self._filters:
            query, count_query, joins, count_joins = self._apply_filters(
                query, count_query, joins, count_joins, filters
            )
        user = current_user
        hint = paging.division_hint(self.model, user)
        if hint is not None:
            query, count_query = query.filter(hint), count_query.filter(hint)
        key = (
            self.endpoint,
            getattr(user, "id", None),
            getattr(user, "role_code", None),
            getattr(user, "division_id", None),
            search or "",
            tuple(filters or ()),
            request.args.get("preset"),
        )
        query, joins = self._apply_sorting(query, joins, sort_column, sort_desc)
        options = [joinedload(j) for j in self._auto_joins]
        size = self.page_size if page_size is None else page_size
        if not execute or not size or size > max(self.page_size_options):
            # Exports and unbounded pages: one plain query, as Flask-Admin does.
            count = paging.count_rows(count_query, key)
            query = self._apply_pagination(query.options(*options), page, size)
            return count, (query.all() if execute else query)
        if sort_column is not None:
            tiebreak_desc = sort_desc
        else:
            default = list(self._get_default_order())
            tiebreak_desc = bool(default[-1][2]) if default else True
        # The same sorting over the bare table: a short list's page is sorted among its
        # ids without running its search and filters a second time.
        resort, _ = self._apply_sorting(db.session.query(self.model), {}, sort_column, sort_desc)
        count, ids = paging.page_and_count(
            query,
            count_query,
            self.model,
            page,
            size,
            key=key,
            tiebreak_desc=tiebreak_desc,
            resort=resort,
        )
        return count, paging.load_rows(db.session, self.model, ids, options)

    @pass_context
    def render_row_action(self, context, action, row_id, row):
        """One row action of a list row (templates/admin/portal_list.html), as Flask-Admin's
        `action.render_ctx(row_id, row)` renders it. Each action's macro and its URL build
        cost ~60 µs; with view, edit, delete and print that was 5 ms of a 20-row page. An
        action in SAME_FOR_EVERY_ROW is rendered once per page for a placeholder id (18
        random digits, so that an <int:id> route accepts it and nothing else on the page
        holds it) and each row gets that markup with its id in place of the placeholder:
        the same markup, for digit ids, which need no escaping in a URL or in HTML. Any
        other action (one that looks at the row, like a request's own-draft edit) and any
        other id render per row as before."""
        if (
            type(action) not in SAME_FOR_EVERY_ROW
            or not isinstance(self._primary_key, str)
            or not str(row_id).isdigit()
        ):
            return action.render(context, row_id, row)
        rendered = g.setdefault("portal_row_actions", {})
        key = (self.endpoint, id(action), context.get("return_url"))
        known = rendered.get(key)
        if known is None:
            placeholder = str(10**17 + secrets.randbelow(9 * 10**17))  # 18 digits
            stand_in = SimpleNamespace(**{self._primary_key: placeholder})
            known = rendered[key] = (
                placeholder,
                str(action.render(context, placeholder, stand_in)),
            )
        placeholder, markup = known
        return Markup(markup.replace(placeholder, str(row_id)))

    def get_one(self, id):
        """Load by id within scope; anything else is a 404 (R-SCOPE-4)."""
        writing = request.endpoint and request.endpoint.endswith(("edit_view", "delete_view"))
        try:
            pk = int(id)
        except (TypeError, ValueError):
            abort(404)
        criteria = self._criteria(for_edit=bool(writing))
        model = db.session.query(self.model).filter(criteria, self.model.id == pk).one_or_none()
        if model is None:
            abort(404)
        return model

    def get_in_scope(self, ids, *, for_edit: bool = True):
        """Records of a bulk action: ids outside scope are silently not there."""
        try:
            pks = [int(i) for i in ids]
        except (TypeError, ValueError):
            abort(404)
        return (
            db.session.query(self.model)
            .filter(self._criteria(for_edit=for_edit), self.model.id.in_(pks))
            .all()
        )

    @action("delete", _l("删除"), _l("确定要删除所选记录吗？"))
    def action_delete(self, ids):
        """Bulk delete of the selected rows that are in scope (ids converted, not trusted)."""
        deleted = sum(1 for model in self.get_in_scope(ids) if self.delete_model(model))
        flash(gettext("已删除 %(n)s 条记录", n=deleted), "success")

    # -- forms ----------------------------------------------------------------
    def create_form(self, obj=None):
        return self._tailor_form(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._tailor_form(super().edit_form(obj))

    def _tailor_form(self, form):
        """Per-user form: fields a role may not set are removed, not just hidden."""
        if hasattr(form, "division") and not scope.sees_all(current_user):
            del form.division
        if (
            hasattr(form, self.owner_field)
            and not scope.sees_division(current_user)
            and not scope.sees_all(current_user)
        ):
            delattr(form, self.owner_field)
        return form

    def validate_form(self, form):
        """Also refuse picked ids that do not exist or are out of scope: Flask-Admin's
        select fields would otherwise turn them into "nothing" silently."""
        valid = super().validate_form(form)
        if request.method != "POST":
            return valid
        for field in form:
            raw = getattr(field, "raw_data", None)
            if (
                isinstance(field, QuerySelectField | AjaxSelectField)
                and raw
                and raw[0] not in ("", "__None")
                and field.data is None
            ):
                field.errors = [*field.errors, gettext("所选项不存在或不在您的可见范围内")]
                valid = False
        return valid

    def on_form_prefill(self, form, id):
        if hasattr(form, "seen_version"):
            form.seen_version.data = str(self.get_one(id).version)

    def update_model(self, form, model):
        seen = getattr(form, "seen_version", None)
        if seen is not None and seen.data and str(model.version) != seen.data:
            flash(
                gettext(
                    "保存失败：该记录已被他人修改（您看到的是第 %(seen)s 版，"
                    "当前为第 %(now)s 版）。请刷新后重新编辑，您输入的内容仍保留在下方。",
                    seen=seen.data,
                    now=model.version,
                ),
                "error",
            )
            return False
        g.audit_before = snapshot(model)  # per request: views are shared by all threads
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        user = current_user
        if is_created:
            model.created_by_id = user.id
            if not scope.sees_all(user):
                model.division_id = user.division_id
            if (
                getattr(model, "owner_id", None) is None
                and self.owner_field == "owner"
                and self.assign_creator_as_owner
            ):
                model.owner_id = user.id
        self.check_write_scope(model)

    assign_creator_as_owner = True

    def check_write_scope(self, model):
        """A hand-made POST cannot place a record outside the writer's scope (R-SCOPE-1)."""
        user = current_user
        if scope.sees_all(user):
            return
        if getattr(model, "division_id", user.division_id) != user.division_id:
            raise ValidationError(_l("不能把记录放到其他版块"))
        owner_id = getattr(model, "owner_id", None)
        if owner_id is not None and owner_id != user.id:
            if not scope.sees_division(user) and not self._keeps_owner(model, owner_id):
                raise ValidationError(_l("不能把记录指派给他人"))
            owner = db.session.get(User, owner_id)
            if owner is None or owner.division_id != user.division_id:
                raise ValidationError(_l("负责人必须是本版块的人员"))

    def _keeps_owner(self, model, owner_id) -> bool:
        """A clerk with a read-write share may save a colleague's record as long as the
        owner stays the same, or follows the shared customer (contacts, opportunities)."""
        before = g.get("audit_before") or {}
        if "owner_id" in before and before["owner_id"] == owner_id:
            return True
        customer = getattr(model, "customer", None)
        if customer is None or customer.owner_id != owner_id:
            return False
        return (
            db.session.scalar(
                select(Customer.id).where(
                    Customer.id == customer.id, scope.visible(Customer, current_user, for_edit=True)
                )
            )
            is not None
        )

    def after_model_change(self, form, model, is_created):
        if is_created:
            record_event(db.session, "create", model, user=current_user, ip=request.remote_addr)
        else:
            record_change(
                db.session,
                model,
                g.get("audit_before", {}),
                user=current_user,
                ip=request.remote_addr,
            )
        db.session.commit()

    def on_model_delete(self, model):
        record_event(db.session, "delete", model, user=current_user, ip=request.remote_addr)

    def handle_view_exception(self, exc):
        if isinstance(exc, ValidationError | BusinessRuleError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            flash(gettext("保存失败：该记录已被他人修改，请刷新后重试。"), "error")
            return True
        if isinstance(exc, IntegrityError):
            text = str(exc.orig)
            message = next((m for name, m in CONSTRAINT_MESSAGES.items() if name in text), None)
            flash(
                str(message or gettext("保存失败：数据不符合规则（重复或关联记录不存在）。")),
                "error",
            )
            return True
        return super().handle_view_exception(exc)

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    # -- export: bounded, scoped, logged, neutralised (R-IO-3) ------------------------
    @expose("/export/<export_type>/")
    def export(self, export_type):
        if not self.can_export or export_type not in self.export_types:
            abort(404)
        _count, data = self._export_data()  # list query: scope, filters, search, max rows
        header = [str(label) for _name, label in self._export_columns]
        rows = [
            [self.get_export_value(row, name) for name, _label in self._export_columns]
            for row in data
        ]
        record_event(
            db.session,
            "export",
            None,
            user=current_user,
            ip=request.remote_addr,
            summary=f"{self.endpoint}.{export_type}: {len(rows)}",
            model_name=self.model.__name__,
        )
        db.session.commit()
        filename = f"{self.endpoint}-{now():%Y%m%d-%H%M%S}.{export_type}"
        if export_type == "csv":
            body, mimetype = to_csv(header, rows), "text/csv; charset=utf-8"
        else:
            body = to_xlsx(header, rows, title=self.endpoint)
            mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            mimetype=mimetype,
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )

    def preset_links(self):
        current = request.args.get("preset")
        return [(code, label, code == current) for code, label in self.presets]
