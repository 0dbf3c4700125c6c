"""Sign-in, sign-out, language, and user administration."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from app.auth.lanes import LANES
from app.auth.models import ROLES
from app.auth.security import (
    SignInRefused,
    authenticate,
    client_address,
    login_required,
    role_required,
    sign_in_limit,
)
from app.auth.services import (
    PasswordRefused,
    UserError,
    UsernameInvalid,
    all_users,
    create_user,
    set_lanes,
    set_nip,
    set_password,
    user_by_id,
)
from app.auth.webforms import LanguageForm, SignInForm, UserForm
from app.container import container
from app.db import request_session
from app.i18n import N_, gettext
from app.web.nav import add_admin_page
from app.web.redirects import safe_next

bp = Blueprint("auth", __name__)


add_admin_page("auth.users", "Pengguna", order=90)

ROLE_LABELS = {"officer": N_("petugas"), "designer": N_("perancang proses"), "manager": "manajer", "admin": N_("administrator")}



class _Invalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(errors)


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("web.home"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error = None
    status = 200
    if request.method == "POST":
        form = SignInForm(request.form)
        db = request_session()
        try:
            if not form.validate():  # nothing to check: read as a wrong username or password, and not counted
                raise SignInRefused("bad_credentials")
            user = authenticate(db, form.username.data, form.password.data, client_address(),
                                sign_in_limit(container().rate_limits))
        except SignInRefused as refused:
            if refused.throttled:
                error, status = gettext("Terlalu banyak percobaan gagal. Coba lagi dalam 15 menit."), 429
            else:
                error, status = gettext("Nama pengguna atau kata sandi salah."), 401
        else:
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    form = LanguageForm(request.form)
    if not form.validate():
        abort(400)
    lang = form.lang.data
    session["lang"] = lang
    response = redirect(_safe_next(form.next.data))
    response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/admin/users")
@role_required("admin")
def users() -> ResponseReturnValue:
    rows = all_users(request_session())
    return render_template("auth/users.html", users=rows, lanes=LANES, role_labels=ROLE_LABELS)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int | None = None) -> ResponseReturnValue:
    db = request_session()
    user = user_by_id(db, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    error = password_error = username_error = None
    if request.method == "POST":
        form = UserForm(request.form) if user is None else UserForm.for_change(request.form)
        try:
            if not form.validate():
                raise _Invalid(form.errors_by_field())
            if user is None:
                user = create_user(db, form.username.data, form.full_name.data, form.password.data or "", form.role.data,
                                   form.lanes.data or [], form.email.data or None)
                set_nip(user, form.nip.data)
            else:
                user.full_name = form.full_name.data
                user.email = form.email.data or None
                user.role = form.role.data
                # An administrator cannot lock themselves out.
                user.active = True if user.id == current_user.id else form.active.data
                set_lanes(user, form.lanes.data or [])
                set_nip(user, form.nip.data)
                if form.password.data:
                    set_password(user, form.password.data)
        except _Invalid as invalid:
            db.rollback()
            username_error = gettext(invalid.errors["username"]) if "username" in invalid.errors else None
            error = " ".join(gettext(message) for name, message in invalid.errors.items() if name != "username") or None
        except PasswordRefused as exc:
            db.rollback()
            password_error = gettext(exc.message)
        except UsernameInvalid:
            db.rollback()
            user = None if not user_id else user
            username_error = gettext("Nama pengguna 3-100 karakter: huruf kecil a-z, angka, titik, garis bawah atau "
                                     "tanda hubung; tanpa spasi.")
        except UserError as exc:
            db.rollback()
            error = str(exc)
        else:
            flash(gettext("Pengguna disimpan."), "success")
            if user.role == "officer" and not user.lane_names:
                flash(gettext("{name} belum punya jalur tugas, jadi tidak akan melihat tugas apa pun.",
                              name=user.full_name), "error")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", user=user, lanes=LANES, roles=ROLES, role_labels=ROLE_LABELS,
                           error=error, password_error=password_error, username_error=username_error), \
        (400 if error or password_error or username_error else 200)
