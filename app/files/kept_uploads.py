"""Uploads kept across a refused form (issue 9 §3): when a task or intake form is refused for
another field, each upload that passed its checks is kept in ``var/kept-uploads/<token>`` and the
form carries a signed token in a hidden field (``<path>/kept``), shown as "already uploaded:
name"; submitting again without choosing a new file uses the kept one, choosing a file replaces it.

The token is signed with the secret key, names the officer it was given to and lasts one day;
kept uploads are removed once used, and any older than a day are swept (at each keep, and by
:func:`sweep_kept_uploads` for a periodic job). Nothing here touches the database: a kept upload
becomes an attachment only through the form's own storing, after it is accepted.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import FileStorage, MultiDict

from app.files.storage import CHUNK

KEEP_SECONDS = 24 * 3600
KEPT_SUFFIX = "/kept"  # the hidden field of an attachment at <path>: "<path>/kept"
_SALT = "ptsp.kept-upload"


def kept_dir(var_dir: Path) -> Path:
    return var_dir / "kept-uploads"


def keep_upload(var_dir: Path, secret: str, user: str, upload: FileStorage) -> str:
    """Copy an accepted upload aside; the signed token for the form's hidden field."""
    sweep_kept_uploads(var_dir)
    token = secrets.token_hex(16)
    folder = kept_dir(var_dir) / token
    folder.mkdir(parents=True, exist_ok=False)
    stream = upload.stream
    if hasattr(stream, "seek"):
        stream.seek(0)
    with open(folder / "content", "wb") as out:
        while chunk := stream.read(CHUNK):
            out.write(chunk)
    if hasattr(stream, "seek"):
        stream.seek(0)
    name = os.path.basename((upload.filename or "dokumen").replace("\\", "/"))[:255] or "dokumen"
    (folder / "meta.json").write_text(json.dumps({"name": name, "mimetype": upload.mimetype or ""}), "utf-8")
    return _serializer(secret).dumps({"t": token, "u": user})


def kept_name(var_dir: Path, secret: str, user: str, signed: str) -> str | None:
    """The file name behind a token, or None for a token that is forged, expired, another's or used."""
    folder = _folder(var_dir, secret, user, signed)
    if folder is None:
        return None
    try:
        return str(json.loads((folder / "meta.json").read_text("utf-8"))["name"])
    except (OSError, ValueError, KeyError):
        return None


@dataclass
class Restored:
    """The request's files with kept uploads put back where no new file was chosen."""

    files: MultiDict[str, FileStorage]
    tokens: list[str] = field(default_factory=list)  # their folders, removed after the form is accepted
    opened: list[FileStorage] = field(default_factory=list)

    def close(self) -> None:
        for upload in self.opened:
            upload.close()


def restore_kept_uploads(var_dir: Path, secret: str, user: str, form: MultiDict[str, str],
                         files: MultiDict[str, FileStorage]) -> Restored:
    """Put each kept upload named by a ``<path>/kept`` field back as the upload of ``<path>``,
    unless a new file was chosen there. Unusable tokens are ignored (the field is then empty
    and reported as such by the form's own checks)."""
    restored = Restored(MultiDict(files))
    for key in form:
        if not key.endswith(KEPT_SUFFIX):
            continue
        path = key[: -len(KEPT_SUFFIX)]
        chosen = files.get(path)
        if chosen is not None and chosen.filename:
            continue  # replaced by a new file
        folder = _folder(var_dir, secret, user, form.get(key, ""))
        if folder is None:
            continue
        try:
            meta = json.loads((folder / "meta.json").read_text("utf-8"))
            stream = open(folder / "content", "rb")  # noqa: SIM115 - closed by Restored.close()
        except (OSError, ValueError):
            continue
        upload = FileStorage(stream=stream, filename=str(meta.get("name") or "dokumen"), name=path,
                             content_type=str(meta.get("mimetype") or ""))
        restored.files.setlist(path, [upload])
        restored.opened.append(upload)
        restored.tokens.append(folder.name)
    return restored


def discard_kept_uploads(var_dir: Path, tokens: Iterable[str]) -> None:
    """Remove kept uploads that were used (after the form's commit)."""
    for token in tokens:
        if len(token) == 32 and all(c in "0123456789abcdef" for c in token):
            shutil.rmtree(kept_dir(var_dir) / token, ignore_errors=True)


def sweep_kept_uploads(var_dir: Path, max_age: float = KEEP_SECONDS, now: float | None = None) -> int:
    """Remove kept uploads older than ``max_age`` seconds; how many were removed."""
    root = kept_dir(var_dir)
    if not root.is_dir():
        return 0
    limit = (time.time() if now is None else now) - max_age
    removed = 0
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def _folder(var_dir: Path, secret: str, user: str, signed: str) -> Path | None:
    try:
        payload = _serializer(secret).loads(signed, max_age=KEEP_SECONDS)
    except BadSignature:
        return None
    token = payload.get("t") if isinstance(payload, dict) else None
    if payload.get("u") != user or not isinstance(token, str) or len(token) != 32 \
            or not all(c in "0123456789abcdef" for c in token):
        return None
    folder = kept_dir(var_dir) / token
    return folder if (folder / "content").is_file() else None
