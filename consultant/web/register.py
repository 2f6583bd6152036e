"""Becoming a member: register with an address, then choose a password from the emailed link.

The same link page serves an admin's invitation. Both forms are open to
signed-out visitors, so both carry CSRF tokens and are limited per address
and per client (``consultant.registration``). The page after a registration
says the same whether or not the address had an account.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from consultant.registration import (
    LinkInvalid,
    RegistrationRefused,
    accept,
    pending_link,
    request_registration,
)
from consultant.users import MIN_PASSWORD_LENGTH, UserError
from consultant.web.context import services

bp = Blueprint("register", __name__)
MAX_TOKEN = 100


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    if request.method == "GET":
        return render_template("register.html", email="")
    email = request.form.get("email", "")[:320]
    svc = services()
    try:
        with svc.db.session() as session:
            queued = request_registration(svc, session, email, request.remote_addr)
    except RegistrationRefused as refused:
        flash(str(refused), "error")
        return render_template("register.html", email=email), 422
    if queued.outbound_id is not None:
        svc.dispatch("send_reply", queued.outbound_id)
    return render_template("register_sent.html", email=email.strip().lower())


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str) -> str | Response:
    if len(token) > MAX_TOKEN:
        abort(404)
    svc = services()
    page = {"token": token, "min_length": MIN_PASSWORD_LENGTH}
    try:
        with svc.db.read_session() as session:
            page["email"] = pending_link(session, token).email
    except LinkInvalid as invalid:
        return render_template("welcome.html", invalid=str(invalid), **page), 410
    if request.method == "GET":
        return render_template("welcome.html", invalid=None, **page)
    password = request.form.get("password", "")
    if password != request.form.get("confirm_password", ""):
        flash("The two passwords differ; type the same one twice.", "error")
        return render_template("welcome.html", invalid=None, **page), 422
    try:
        with svc.db.session() as session:
            accept(session, token, password, request.remote_addr)
    except LinkInvalid as invalid:
        return render_template("welcome.html", invalid=str(invalid), **page), 410
    except UserError as error:
        flash(f"Not yet: {error}.", "error")
        return render_template("welcome.html", invalid=None, **page), 422
    flash("Your account is ready. Sign in with your address and the password you chose.", "ok")
    return redirect(url_for("auth.login"))
