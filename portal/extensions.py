"""One instance of each Flask extension; import them from here.

Never ``from flask_htmx import htmx``: that name is the submodule, always truthy, so every request
would look like an htmx request (flask-htmx issue #25).
"""

from flask_babel import Babel
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()
