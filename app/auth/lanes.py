"""The lanes of the office's diagrams: each names a role officers are members of."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from app.i18n import LANGUAGES, N_, english_of


class LaneTitle(Mapping[str, str]):
    """A lane's title by language: ``["id"]`` as officers read it, ``["en"]`` from the English catalogue."""

    def __init__(self, indonesian: str) -> None:
        self.indonesian = indonesian

    def __getitem__(self, language: str) -> str:
        if language == "id":
            return self.indonesian
        if language == "en":
            return english_of(self.indonesian) or self.indonesian
        raise KeyError(language)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


LANES: dict[str, Mapping[str, str]] = {
    "front_office": LaneTitle(N_("Loket Pelayanan")),
    "verifier": LaneTitle(N_("Verifikator Berkas")),
    "technical_team": LaneTitle(N_("Tim Teknis")),
    "cashier": LaneTitle(N_("Kasir")),
    "head": LaneTitle(N_("Kepala Dinas")),
}

