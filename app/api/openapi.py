"""The OpenAPI 3.1 description of the JSON API (kept next to the views it describes)."""
from __future__ import annotations

from typing import Any

from app.auth.lanes import LANES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Bad request", 401: "Missing or invalid token", 403: "Not allowed for this user",
            404: "Not found", 409: "Conflict: the task or file changed", 422: "Form values do not validate"}
    return {str(c): _json(_ref("Error"), text[c]) for c in codes}


TASK_ID = {"name": "task_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


def openapi_document() -> dict[str, Any]:
    secured: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "PTSP API", "version": "1.0.0",
                 "description": "Operations of the one-stop permit office for integrations. "
                                "Authenticate with `Authorization: Bearer <token>` (ptsp create-token)."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message", "details"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"},
                        "details": {"type": "array", "items": {"type": "object", "properties": {
                            "field": {"type": "string"}, "message": {"type": "string"}}}}}}}},
                "Me": {"type": "object", "required": ["username", "full_name", "role", "lanes"], "properties": {
                    "username": {"type": "string"}, "full_name": {"type": "string"},
                    "role": {"type": "string", "enum": ["officer", "designer", "manager", "admin"]},
                    "lanes": {"type": "array", "items": {"type": "string", "enum": list(LANES)}}}},
                "Definition": {"type": "object", "required": ["process_id", "name", "version"], "properties": {
                    "process_id": {"type": "string"}, "name": {"type": "string"},
                    "version": {"type": "integer"}, "versions": {"type": "integer"},
                    "deployed_at": {"type": "string", "format": "date-time"}, "deployed_by": {"type": "string"}}},
                "Task": {"type": "object", "required": ["id", "title", "step", "lane", "status", "created_at"],
                         "properties": {
                             "id": {"type": "integer"}, "title": {"type": "string"}, "step": {"type": "string"},
                             "lane": {"type": "string"}, "form": {"type": ["string", "null"]},
                             "status": {"type": "string", "enum": ["open", "completed", "cancelled"]},
                             "created_at": {"type": "string", "format": "date-time"},
                             "claimed_by": {"type": ["string", "null"]}, "instance_id": {"type": "integer"},
                             "file_number": {"type": ["string", "null"]}}},
                "TaskDetail": {"allOf": [_ref("Task"), {"type": "object", "properties": {
                    "form_schema": {"type": ["object", "null"]}}}]},
                "Registration": {"type": "object", "required": ["file_number", "process_id", "pin", "attachments"],
                                 "properties": {
                                     "file_number": {"type": "string"}, "process_id": {"type": "string"},
                                     "pin": {"type": "string", "pattern": "^[0-9]{6}$"},
                                     "promised_date": {"type": ["string", "null"], "format": "date"},
                                     "attachments": {"type": "array", "items": {"type": "object", "properties": {
                                         "document_type": {"type": "string"}, "size": {"type": "integer"},
                                         "sha256": {"type": "string"}}}}}},
                "File": {"type": "object", "required": ["file_number", "status", "open_tasks", "history"],
                         "properties": {
                             "file_number": {"type": "string"}, "process_id": {"type": "string"},
                             "status": {"type": "string"}, "applicant_name": {"type": "string"},
                             "promised_date": {"type": ["string", "null"], "format": "date"},
                             "open_tasks": {"type": "array", "items": _ref("Task")},
                             "history": {"type": "array", "items": {"type": "object", "properties": {
                                 "at": {"type": "string", "format": "date-time"}, "kind": {"type": "string"},
                                 "step": {"type": ["string", "null"]}, "actor": {"type": "string"}}}}}},
            },
        },
        "paths": {
            "/api/v1/me": {"get": {
                "operationId": "getMe", "summary": "Who the token belongs to", "security": secured,
                "responses": {"200": _json(_ref("Me"), "The user"), **_errors(401)}}},
            "/api/v1/process-definitions": {"get": {
                "operationId": "listDefinitions", "summary": "Deployed procedures (latest versions)",
                "security": secured,
                "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": _ref("Definition")}}}, "Definitions"), **_errors(401)}}},
            "/api/v1/tasks": {"get": {
                "operationId": "listTasks", "summary": "Open tasks of the user's lanes, oldest first",
                "security": secured,
                "parameters": [
                    {"name": "lane", "in": "query", "schema": {"type": "string", "enum": list(LANES)}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
                "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": _ref("Task")}}}, "Tasks"), **_errors(400, 401, 403)}}},
            "/api/v1/tasks/{task_id}": {"get": {
                "operationId": "getTask", "summary": "A task with its form's JSON Schema", "security": secured,
                "parameters": [TASK_ID],
                "responses": {"200": _json(_ref("TaskDetail"), "The task"), **_errors(401, 403, 404)}}},
            "/api/v1/tasks/{task_id}/complete": {"post": {
                "operationId": "completeTask", "summary": "Complete a task with its form values",
                "security": secured, "parameters": [TASK_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}}}},
                "responses": {"200": _json(_ref("Task"), "The completed task"),
                              **_errors(400, 401, 403, 404, 409, 422)}}},
            "/api/v1/tasks/{task_id}/claim": {"post": {
                "operationId": "claimTask", "summary": "Hold a task: from now on only this user completes it",
                "security": secured, "parameters": [TASK_ID],
                "responses": {"200": _json(_ref("Task"), "The claimed task"), **_errors(401, 403, 404, 409)}}},
            "/api/v1/tasks/{task_id}/release": {"post": {
                "operationId": "releaseTask", "summary": "Give a claimed task back to its lane",
                "security": secured, "parameters": [TASK_ID],
                "responses": {"200": _json(_ref("Task"), "The released task"), **_errors(401, 403, 404, 409)}}},
            "/api/v1/files": {"post": {
                "operationId": "registerFile", "security": secured,
                "summary": "Register an application (the front desk's intake): open the file, store its documents",
                "description": "The fields of the permit type's registration form, one per leaf, named by their "
                               "path (applicant/full_name, applicant_address/village, ...); each document as "
                               "attachments/<n> (a file) with attachments/<n>/document_type. Checked as the "
                               "browser's intake is; nothing is kept unless everything is accepted.",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["permit_type"],
                    "properties": {"permit_type": {"type": "string", "maxLength": 100}},
                    "additionalProperties": True}}}},
                "responses": {"201": _json(_ref("Registration"), "The file was opened"),
                              **_errors(400, 401, 403, 404, 422)}}},
            "/api/v1/files/{file_number}": {"get": {
                "operationId": "getFile", "summary": "A file's state, open steps and history", "security": secured,
                "parameters": [{"name": "file_number", "in": "path", "required": True,
                                "schema": {"type": "string", "maxLength": 40}}],
                "responses": {"200": _json(_ref("File"), "The file"), **_errors(401, 403, 404)}}},
        },
    }
