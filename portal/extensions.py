"""Flask extensions, created unbound; the factory binds them with init_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
# The one CSRF mechanism (STACK-NOTES): Flask-WTF checks every POST, including
# Flask-Admin's deletes and actions, whose templates render csrf_token().
csrf = CSRFProtect()
