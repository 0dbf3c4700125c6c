"""JSON Schema forms of user tasks, in one place.

- ``schema``: what a schema says about one field (types, choices, attachments, ``$ref``);
- ``render``: schema -> the fields of an HTML form, and a step's data as a read-only list;
- ``values``: a submitted HTML form -> typed JSON, prefilled values, attachments in data;
- ``check``: the one form check (may this form be given to officers?);
- ``registry``: forms by name (forms/*.json, or the designer's saved version) and validation;
- ``builder``: forms saved from the designer's form builder (``models.FormVersion``).
"""
