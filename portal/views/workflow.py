"""Small forms and one page template for the workflow steps of issue #5 (conversion,
completion, release, assignment, hand-over). Views call services; this module only
renders and reads input."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class WorkflowForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST already; one mechanism only


class ConvertForm(WorkflowForm):
    link_to = SelectField(_l("客户"), choices=[], validate_choice=False)
    create_opportunity = BooleanField(_l("同时创建商机"))
    opportunity_title = StringField(_l("商机名称"), validators=[Optional(), Length(max=100)])
    opportunity_amount = DecimalField(_l("金额"), validators=[Optional(), NumberRange(min=0)])
    stage = SelectField(_l("阶段"), choices=[], validate_choice=False)
    owners = SelectMultipleField(_l("分配给（轮流）"), choices=[], validate_choice=False)


class CompleteForm(WorkflowForm):
    feedback_reason = SelectField(_l("客户反馈"), choices=[], validate_choice=False)
    feedback = TextAreaField(_l("反馈说明"), validators=[Optional(), Length(max=500)])
    result = TextAreaField(_l("结果"), validators=[Optional(), Length(max=500)])
    next_at = DateTimeLocalField(
        _l("下次回访时间"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class ReplyForm(WorkflowForm):
    reply = TextAreaField(
        _l("回复"), validators=[DataRequired(_l("请填写回复内容")), Length(max=500)]
    )


class InstructionForm(WorkflowForm):
    instruction = TextAreaField(
        _l("领导批示"), validators=[DataRequired(_l("请填写批示内容")), Length(max=500)]
    )


class ReasonForm(WorkflowForm):
    reason = StringField(_l("原因"), validators=[DataRequired(_l("请填写原因")), Length(max=200)])


class AssignForm(WorkflowForm):
    to_user = SelectField(_l("分配给"), choices=[], validate_choice=False)
    override = BooleanField(_l("超出上限（记录在案）"))


class HandoverForm(WorkflowForm):
    from_user = SelectField(_l("交出人"), choices=[], validate_choice=False)
    to_user = SelectField(_l("接手人"), choices=[], validate_choice=False)
    reason = StringField(_l("原因"), validators=[DataRequired(_l("请填写原因")), Length(max=200)])


def ids_arg() -> list[int]:
    """Selected ids from ?ids=1,2,3 (or a repeated ids field on POST); junk is dropped."""
    raw = request.values.getlist("ids") or []
    ids = []
    for chunk in raw:
        for part in str(chunk).split(","):
            if part.strip().isdigit():
                ids.append(int(part))
    return ids[:200]


def page(
    view,
    *,
    title,
    form=None,
    submit_label=None,
    records=(),
    record_headers=(),
    warnings=(),
    intro=None,
    hidden=None,
    back_url=None,
):
    return view.render(
        "admin/workflow/form.html",
        title=title,
        form=form,
        submit_label=submit_label,
        records=records,
        record_headers=record_headers,
        warnings=warnings,
        intro=intro,
        hidden=hidden or {},
        back_url=back_url or view.get_url(".index_view"),
    )


def duplicate_message(duplicate) -> str:
    """R-POOL-6: only the owner's name and the pool state, never the other record."""
    from flask_babel import gettext

    what = gettext("客户") if duplicate.kind == "customer" else gettext("线索")
    if duplicate.in_pool:
        return gettext("疑似重复：本版块公海中已有同名或同手机号的%(what)s", what=what)
    return gettext(
        "疑似重复：本版块已有同名或同手机号的%(what)s，负责人：%(owner)s",
        what=what,
        owner=duplicate.owner_name or "—",
    )


def as_id(value) -> int | None:
    """A submitted choice as an id; anything that is not a positive number is no choice."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None
