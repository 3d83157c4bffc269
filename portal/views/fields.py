"""Form fields the generated forms lack: the cascading region picker."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import ValidationError

from portal.extensions import db
from portal.models import Region


class RegionWidget:
    """Province → city → county selects filled on demand by /admin/regions/children."""

    def __call__(self, field, **kwargs):
        chain = []
        if field.data:
            node = db.session.get(Region, field.data)
            while node is not None:
                chain.insert(0, {"code": node.code, "name": node.name})
                node = node.parent
        return Markup(render_template("admin/widgets/region.html", field=field, chain=chain))


class RegionField(StringField):
    widget = RegionWidget()

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip() or None

    def pre_validate(self, form):
        if self.data and (len(self.data) != 6 or db.session.get(Region, self.data) is None):
            raise ValidationError(gettext("请选择有效的地区"))
