"""The permit page's revocation form (WTForms). The CSRF token is checked by CSRFProtect (app factory)."""
from __future__ import annotations

from wtforms import Form, TextAreaField
from wtforms.validators import Length

from app.i18n import N_


class RevokeForm(Form):
    # The message's English is registered in app/permits/views.py.
    reason = TextAreaField(filters=[lambda v: (v or "").strip()], validators=[
        Length(min=10, message=N_("Alasan pencabutan paling sedikit 10 karakter."))])
