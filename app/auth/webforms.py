"""The HTML forms of sign-in, language and user administration (WTForms), validated on the server.

Messages are Indonesian keys (their English is in the .po catalogue); views translate them when they show them.
The CSRF token is checked for every form by CSRFProtect (app factory), so these forms do not.
"""
from __future__ import annotations

from wtforms import BooleanField, Form, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, Regexp

from app.auth.lanes import LANES
from app.auth.models import ROLES
from app.auth.services import NIP, USERNAME
from app.i18n import LANGUAGES, N_


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _no_spaces(value: str | None) -> str | None:
    return value.replace(" ", "").strip() if isinstance(value, str) else value


class SignInForm(Form):
    # A name longer than any username, or an empty field, reads as a wrong username or password.
    username = StringField(filters=[_strip], validators=[InputRequired(), Length(max=100)])
    password = PasswordField(validators=[InputRequired(), Length(max=1000)])


class LanguageForm(Form):
    lang = StringField(default="id", validators=[AnyOf(list(LANGUAGES))])
    next = StringField()


class UserForm(Form):
    """Adding a user (``username`` and ``password`` required) or changing one (see :meth:`for_change`)."""

    username = StringField(filters=[_strip], validators=[Regexp(USERNAME.pattern + "$", message=(
        "Nama pengguna 3-100 karakter: huruf kecil a-z, angka, titik, garis bawah atau tanda hubung; tanpa spasi."))])
    full_name = StringField(filters=[_strip], validators=[
        DataRequired(N_("Nama lengkap wajib diisi, paling panjang 200 karakter.")),
        Length(max=200, message=N_("Nama lengkap wajib diisi, paling panjang 200 karakter."))])
    email = StringField(filters=[_strip], validators=[
        Optional(), Length(max=200, message=N_("Surel paling panjang 200 karakter."))])
    nip = StringField(filters=[_no_spaces], validators=[
        Optional(), Regexp(NIP.pattern + "$", message=N_("NIP terdiri dari 18 angka."))])
    role = SelectField(choices=list(ROLES), default="officer", validate_choice=False,
                       validators=[InputRequired(N_("Pilih peran yang tersedia.")),
                                   AnyOf(list(ROLES), message=N_("Pilih peran yang tersedia."))])
    lanes = SelectMultipleField(choices=list(LANES), validate_choice=False)
    active = BooleanField(false_values=("", "off", "false"))
    password = PasswordField()

    def validate_lanes(self, field: SelectMultipleField) -> None:
        from wtforms.validators import ValidationError

        if any(lane not in LANES for lane in field.data or []):
            raise ValidationError(N_("Pilih jalur tugas yang tersedia."))

    @classmethod
    def for_change(cls, formdata: object) -> UserForm:
        """The form of an existing user: the username is not sent (it never changes)."""
        form = cls(formdata)
        form.username.validators = []
        return form

    def errors_by_field(self) -> dict[str, str]:
        return {name: str(messages[0]) for name, messages in self.errors.items()}
