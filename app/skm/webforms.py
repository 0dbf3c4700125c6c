"""The satisfaction survey's form (WTForms): one answer of 1-4 per element, and an optional
suggestion. Messages' English is registered in app/skm/views.py; the CSRF token is checked by
CSRFProtect (app factory)."""
from __future__ import annotations

from wtforms import Form, StringField, TextAreaField
from wtforms.validators import AnyOf, Length

from app.skm.models import ELEMENTS
from app.skm.services import SUGGESTION_MAX


class _SurveyFields(Form):
    suggestion = TextAreaField(filters=[lambda v: (v or "").strip()], validators=[
        Length(max=SUGGESTION_MAX, message="Saran paling banyak 2000 karakter.")])


# One field per element of the survey (Permenpan RB 14/2017), named as the element.
SurveyForm: type[Form] = type("SurveyForm", (_SurveyFields,), {
    name: StringField(filters=[lambda v: (v or "").strip()],
                      validators=[AnyOf(["1", "2", "3", "4"], message="Pilih salah satu jawaban.")])
    for name in ELEMENTS})
