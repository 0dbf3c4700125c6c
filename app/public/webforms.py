"""The public tracking form (WTForms). The CSRF token is checked by CSRFProtect (app factory)."""
from __future__ import annotations

from wtforms import Form, StringField
from wtforms.validators import InputRequired, Length

from app.public.services import normalise_file_number


class TrackForm(Form):
    # Whatever is wrong (empty, too long) reads exactly as a wrong number or PIN: nothing is told.
    file_number = StringField(filters=[lambda v: normalise_file_number(v or "")], validators=[InputRequired(), Length(max=40)])
    pin = StringField(filters=[lambda v: (v or "").strip()], validators=[InputRequired(), Length(max=20)])
