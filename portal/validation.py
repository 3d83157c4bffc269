"""Field rules of R-ENTRY-2, shared by forms and imports; messages in the user's language."""

from __future__ import annotations

import re

from flask_babel import gettext
from wtforms.validators import DataRequired, StopValidation, ValidationError

# Mainland mobile prefixes in use (China Mobile, Unicom, Telecom, Broadnet, MVNO ranges).
MOBILE_PREFIXES = frozenset(
    [f"13{d}" for d in range(10)]
    + ["145", "146", "147", "148", "149"]
    + ["150", "151", "152", "153", "155", "156", "157", "158", "159"]
    + ["162", "165", "166", "167"]
    + ["170", "171", "172", "173", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"]
)
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")


# Messages are rendered with gettext at validation time: Flask-Admin's templates show
# only plain-string errors, so a lazy string would fail silently without a message.


class Required(DataRequired):
    """Required with a field-specific message, e.g. 请填写客户名 (R-ENTRY-1)."""

    def __init__(self, message: str):
        super().__init__(message)

    def __call__(self, form, field):
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(gettext(self.message))


def is_mobile(value: str) -> bool:
    return len(value) == 11 and value.isdigit() and value[:3] in MOBILE_PREFIXES


def mobile(form, field) -> None:
    if field.data and not is_mobile(field.data):
        raise ValidationError(gettext("请输入正确的11位手机号码"))


def postcode(form, field) -> None:
    if field.data and not (len(field.data) == 6 and field.data.isdigit()):
        raise ValidationError(gettext("邮政编码应为6位数字"))


def email(form, field) -> None:
    if field.data and (len(field.data) > 50 or not _EMAIL.match(field.data)):
        raise ValidationError(gettext("请输入正确的电子邮箱"))


def qq(form, field) -> None:
    if field.data and not (field.data.isdigit() and 5 <= len(field.data) <= 11):
        raise ValidationError(gettext("QQ号应为5到11位数字"))


def strip(value):
    """Store text as typed, trimmed (R-ENTRY-2); empty becomes NULL."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
