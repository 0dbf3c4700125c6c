"""The dashboard's report order form (WTForms). The CSRF token is checked by CSRFProtect (app factory)."""
from __future__ import annotations

from wtforms import Form, StringField
from wtforms.validators import Regexp

from app.desk.report import _MONTH


class ReportOrderForm(Form):
    # The message's English is registered in app/desk/views.py.
    month = StringField(filters=[lambda v: (v or "").strip()[:7]], validators=[
        Regexp(_MONTH, message="Bulan harus berbentuk TTTT-BB, misalnya 2026-11.")])
