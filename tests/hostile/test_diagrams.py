"""Hostile diagrams (tests/hostile/diagrams/): every one is refused by the designer's check
and by `ptsp deploy` (with and without the validator), and nothing is stored (issue 10, item 6)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.container import Container
from app.designer.validation import diagram_validator, validate_diagram
from app.engine.definitions import deploy_diagram
from app.engine.models import ProcessDefinition
from app.engine.spiff import DiagramError, parse_diagram

DIAGRAMS = Path(__file__).parent / "diagrams"
FORMS = {p.name for p in (ROOT / "forms").glob("*.json")}
HOSTILE = sorted(p.name for p in DIAGRAMS.glob("*.bpmn"))
# Refused before any BPMN rule runs: the bytes themselves are hostile.
BYTE_LEVEL = {n for n in HOSTILE if not n.startswith("script_")}


def test_the_corpus_is_there() -> None:
    assert len(HOSTILE) >= 8
    assert "utf7_hidden_doctype.bpmn" in HOSTILE
    # The trick of the UTF-7 file: its DTD is invisible to a search of the raw bytes.
    assert b"<!DOCTYPE" not in (DIAGRAMS / "utf7_hidden_doctype.bpmn").read_bytes().upper()


@pytest.mark.parametrize("name", HOSTILE)
def test_the_designer_refuses_each_hostile_diagram(name: str) -> None:
    problems = validate_diagram((DIAGRAMS / name).read_bytes(), name, known_forms=FORMS)
    assert problems, f"{name} was accepted"


@pytest.mark.parametrize("name", sorted(BYTE_LEVEL))
def test_the_engine_refuses_each_hostile_document_even_without_the_validator(name: str) -> None:
    with pytest.raises(DiagramError):
        parse_diagram((DIAGRAMS / name).read_bytes(), name)


@pytest.mark.parametrize("name", HOSTILE)
def test_deploy_stores_nothing_of_a_hostile_diagram(container: Container, name: str) -> None:
    with container.db.unit_of_work() as session, pytest.raises(DiagramError):
        deploy_diagram(session, (DIAGRAMS / name).read_bytes(), name, "cli", container.clock,
                       validator=diagram_validator(FORMS))
    with container.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0


def test_a_declared_encoding_other_than_utf8_is_named_in_the_message() -> None:
    [problem] = validate_diagram((DIAGRAMS / "utf7_declared_no_dtd.bpmn").read_bytes(), "x.bpmn", known_forms=FORMS)
    assert "UTF-8" in problem["message"] and "utf-7" in problem["message"]
