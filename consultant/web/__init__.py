"""The review web app: a Flask app factory; views call the services in ``consultant.cases``."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from consultant.services import Services
from consultant.web import (
    account,
    admin,
    api,
    api_ask,  # noqa: F401 (its routes join the API blueprint when imported)
    ask,
    auth,
    case_page,
    code_changes,
    dashboard,
    filters,
    guidance,
    health,
    metrics,
    my_cases,
    my_codes,
    plain_language,
    queue,
    register,
    request_log,
    sources,
)
from consultant.web import codes as code_pages
from consultant.web.security import add_security_headers, secret_key


def create_app(services: Services) -> Flask:
    """A review app bound to ``services``; every page but the login needs a signed-in user."""
    settings = services.settings
    app = Flask(__name__, template_folder=str(settings.templates_dir / "web"))
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="consultant_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.extensions["consultant"] = services
    CSRFProtect(app)
    auth.init_app(app)
    filters.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(case_page.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(code_pages.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(guidance.bp)
    app.register_blueprint(plain_language.bp)
    app.register_blueprint(my_codes.bp)
    app.register_blueprint(code_changes.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(ask.bp)
    app.register_blueprint(my_cases.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(api.bp)  # after CSRFProtect: it exempts itself
    app.register_error_handler(HTTPException, _error_page)
    app.after_request(add_security_headers)
    request_log.install(app)
    return app


ERROR_PAGES = frozenset({400, 403, 404, 405, 409, 413, 422, 429})
STALE_FORM = (
    "The form was not accepted: it is out of date or did not come from this site. "
    "Go back, reload the page and try again."
)


def _error_page(error: HTTPException) -> HTTPException | tuple[str, int]:
    """Errors a reviewer can meet get a page with the site's layout (sign-out, way back);
    others (redirects, 500s) keep Werkzeug's response."""
    if error.code not in ERROR_PAGES:
        return error
    message = STALE_FORM if isinstance(error, CSRFError) else error.description
    return render_template("error.html", error=error, message=message), error.code
