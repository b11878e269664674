"""Sign-in, sign-out and who-am-I. The directory, password policy and lockout slot in here."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from portal.auth import views  # noqa: E402,F401  (routes register on import)
