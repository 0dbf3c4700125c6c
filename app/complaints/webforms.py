"""The complaint forms (WTForms): the public complaint and status forms, and a manager's answer.

Messages are Indonesian keys (their English is registered in app/complaints/views.py); the view
translates them. The CSRF token is checked by CSRFProtect (app factory).
"""
from __future__ import annotations

from wtforms import Form, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional, Regexp

from app.complaints.models import CATEGORIES
from app.complaints.services import _CONTACT, ANSWER_MAX, ANSWER_MIN, MESSAGE_MAX, MESSAGE_MIN, ComplaintForm
from app.i18n import N_


def _strip(value: str | None) -> str:
    return (value or "").strip()


def _file_number(value: str | None) -> str:
    return (value or "").strip().upper()[:40]


class ComplaintWebForm(Form):
    file_number = StringField(filters=[_file_number])
    pin = StringField(filters=[lambda v: _strip(v)[:20]])
    category = StringField(validators=[AnyOf(list(CATEGORIES), message=N_("Pilih jenis pengaduan."))])
    message = TextAreaField(filters=[_strip], validators=[
        Length(MESSAGE_MIN, MESSAGE_MAX, message=N_("Uraian pengaduan 10 sampai 4.000 karakter."))])
    contact_name = StringField(filters=[_strip], validators=[Length(max=150, message=N_("Nama paling panjang 150 karakter."))])
    contact = StringField(filters=[_strip], validators=[Optional(), Regexp(_CONTACT, message=(
        N_("Isi nomor telepon Indonesia atau alamat surel yang benar, atau kosongkan.")))])

    def complaint(self) -> ComplaintForm:
        """What the services record (long fields cut: they are shown back, never stored, when invalid)."""
        return ComplaintForm(file_number=self.file_number.data, pin=self.pin.data, category=self.category.data or "",
                             message=self.message.data[:5000], contact_name=self.contact_name.data[:200],
                             contact=self.contact.data[:300])

    def errors_by_field(self) -> dict[str, str]:
        return {name: str(messages[0]) for name, messages in self.errors.items()}


class ComplaintStatusForm(Form):
    file_number = StringField(filters=[_file_number])
    pin = StringField(filters=[lambda v: _strip(v)[:20]])


class AnswerForm(Form):
    answer = TextAreaField(filters=[_strip], validators=[
        Length(ANSWER_MIN, ANSWER_MAX, message=N_("Jawaban 10 sampai 4.000 karakter."))])
