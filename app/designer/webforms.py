"""The designer's HTML forms (WTForms): moving running files to another version, and the JSON
form editor's fields. The CSRF token is checked by CSRFProtect (app factory)."""
from __future__ import annotations

from wtforms import Field, Form, IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, NumberRange, Optional

MAX_ID = 2**31 - 1  # a database id


class _Ids(Field):
    """Every value sent under the field's name that is a database id (the checked rows of a table)."""

    data: list[int]

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [int(v) for v in valuelist if v.isdigit() and len(v) < 10]

    def _value(self) -> str:
        return ""


class MigrationForm(Form):
    instance = _Ids(default=list)
    target_version = IntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    action = StringField(default="dry_run", validators=[AnyOf(["dry_run", "migrate"])])


class FormEditForm(Form):
    name = StringField(filters=[lambda v: (v or "").strip()])
    schema = TextAreaField(default="")
