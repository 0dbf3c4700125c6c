"""The inbox's and the administrators' forms (WTForms): reassigning a step, the office calendar,
managers' responsibilities. The CSRF token is checked by CSRFProtect (app factory)."""
from __future__ import annotations

from datetime import date

from wtforms import Form, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from app.auth.lanes import LANES
from app.i18n import N_


def _strip(value: str | None) -> str:
    return (value or "").strip()


class ReassignForm(Form):
    username = StringField(filters=[_strip], validators=[InputRequired(), Length(max=100)])


class CalendarDayForm(Form):
    day_date: date  # the day, once valid
    day = StringField(filters=[_strip], validators=[InputRequired(N_("Isi tanggal seperti 2026-03-20."))])
    action = StringField(validators=[AnyOf(["add", "remove", "clear"])])  # anything else is not this page's form: 400
    reason = StringField(filters=[_strip], validators=[Length(max=300, message=N_("Alasan paling panjang 300 karakter."))])

    def validate_day(self, field: StringField) -> None:
        try:
            self.day_date = date.fromisoformat(field.data)
        except ValueError:
            raise ValidationError(N_("Isi tanggal seperti 2026-03-20.")) from None


class ResponsibilityForm(Form):
    username = StringField(filters=[_strip], validators=[
        InputRequired("Pilih manajer dan jalur tugas yang tersedia."), Length(max=100)])
    process_id = StringField(filters=[lambda v: _strip(v) or None], validators=[Optional(), Length(max=200)])
    lane = StringField(filters=[lambda v: _strip(v) or None], validators=[
        Optional(), AnyOf(list(LANES), message="Pilih manajer dan jalur tugas yang tersedia.")])
    action = StringField(default="assign")
