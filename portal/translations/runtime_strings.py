"""Msgids that the code translates at run time from a plain string, so extraction cannot see them.

Never imported: it only puts these strings into messages.pot (see scripts/i18n.sh). Add a line
here when code passes a Chinese literal to gettext indirectly (e.g. Flask-Login's
login_message, translated through localize_callback=gettext).
"""

from flask_babel import lazy_gettext as _l

RUNTIME_STRINGS = (
    _l("请先登录"),  # portal/auth.py: login_manager.login_message
)
