"""The ceiling for ``bench/load.py``: the least a Flask app can do (one route, a short text
answer, no session, no database), served by the same gunicorn settings as the portal."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "ok"
