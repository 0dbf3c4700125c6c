"""The permit catalogue: loaded and validated at start, the one source of prefixes, durations and
fee rules, and every published worked example equal to what the diagram's scripts compute."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from app import catalogue
from app.catalogue.services import (
    CatalogueError,
    UnknownPermitType,
    check_worked_examples,
    diagram_facts,
    load_catalogue,
    run_worked_example,
)
from app.clock import SYSTEM_CLOCK
from app.config import ROOT
from app.forms.registry import FormRegistry
from app.sla.calendar import WorkingCalendar
from app.sla.script_helpers import script_helpers
from tests.catalogue.samples import SAMPLES

PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
PERMITS = ["building_permit", "nuisance_permit", "trade_licence", "advertisement_permit", "road_use_permit"]
HELPERS = script_helpers(WorkingCalendar(), SYSTEM_CLOCK)  # what the container gives the catalogue


@pytest.fixture(scope="module")
def cat() -> catalogue.Catalogue:
    return catalogue.load(PROCESSES, FORMS, script_helpers=HELPERS)


def test_every_procedure_has_an_entry_with_its_prefix_and_duration(cat: catalogue.Catalogue) -> None:
    assert {e.process_id for e in cat.permits()} == set(PERMITS)
    assert [b.process_id for b in cat.bundles()] == ["bundle_new_shop"]
    app = Flask(__name__)
    app.extensions["ptsp"] = SimpleNamespace(catalogue=cat)  # the module functions read the app's container's
    with app.app_context():
        assert catalogue.current() is cat
        assert {p: (catalogue.file_prefix(p), catalogue.duration_days(p)) for p in [*PERMITS, "bundle_new_shop"]} == {
            "building_permit": ("PBG", 10), "nuisance_permit": ("HO", 10), "trade_licence": ("SIUP", 3),
            "advertisement_permit": ("RKL", 5), "road_use_permit": ("IPJ", 5), "bundle_new_shop": ("PAKET", 10)}
        assert catalogue.entry("trade_licence").name["id"] == "Surat Izin Usaha Perdagangan (SIUP)"
        with pytest.raises(UnknownPermitType):
            catalogue.duration_days("no_such_permit")
        assert catalogue.duration_days("no_such_permit", default=7) == 7
        assert catalogue.file_prefix("no_such_permit", default="NSP") == "NSP"
    # Outside an app: the catalogue of PTSP_PROCESSES_DIR (the project's own here).
    assert catalogue.file_prefix("trade_licence") == "SIUP"
    assert catalogue.current() is catalogue.current()


def test_each_container_builds_its_own_catalogue_once(tmp_path: Path) -> None:
    from app.config import Settings
    from app.container import Container
    from app.publisher import RecordingPublisher

    def settings(name: str) -> Settings:
        return Settings(database_url=f"sqlite:///{tmp_path / name}.sqlite", var_dir=tmp_path / name,
                        broker_url=f"sqla+sqlite:///{tmp_path / name}-broker.sqlite")

    first, second = (Container(settings(n), publisher=RecordingPublisher()) for n in ("a", "b"))
    try:
        assert first.catalogue is not second.catalogue
        assert first.catalogue.entry("trade_licence") == second.catalogue.entry("trade_licence")
        assert first.catalogue.script_helpers.keys() == set(HELPERS)
    finally:
        first.db.dispose()
        second.db.dispose()


def test_each_entry_publishes_the_six_components(cat: catalogue.Catalogue) -> None:
    for e in cat.entries.values():
        assert e.requirements and e.steps and e.working_days and e.fee.formula and e.product.name
        assert e.complaint_channels and e.complaint_response_days
        assert e.fee.worked_examples, e.process_id


def test_a_bundle_checks_the_union_of_its_permits_requirements(cat: catalogue.Catalogue) -> None:
    bundle = cat.entry("bundle_new_shop")
    keys = [r.key for r in bundle.requirements]
    assert len(keys) == len(set(keys))
    assert set(keys) == {r.key for p in bundle.permits for r in cat.entry(p).requirements}
    # optional for one permit (akta) stays optional; required by any makes it required
    assert {r.key: r.required for r in bundle.requirements}["akta_pendirian"] is False
    assert {r.key: r.required for r in bundle.requirements}["npwp"] is True


@pytest.mark.parametrize(("process_id", "index"), [
    (pid, i) for pid in [*PERMITS, "bundle_new_shop"]
    for i in range(len(load_catalogue(PROCESSES / "catalogue").entry(pid).fee.worked_examples))])
def test_worked_example_equals_what_the_diagram_computes(cat: catalogue.Catalogue, process_id: str, index: int) -> None:
    example = cat.entry(process_id).fee.worked_examples[index]
    data = run_worked_example(cat, process_id, example)
    for name, expected in example.expected.items():
        assert data[name] == expected, (process_id, example.title["id"], name)


def test_published_fees(cat: catalogue.Catalogue) -> None:
    fees = {(pid, e.title["en"]): e.expected["fee"] for pid in cat.entries for e in cat.entry(pid).fee.worked_examples}
    # HO: (0.3x3 + 0.2x2 + 0.5x3) x 87.5 m2 x Rp1,500 = 2.8 x 87.5 x 1,500
    assert fees[("nuisance_permit", "A medium-scale building-supplies shop, 87.5 m²")] == 367_500
    # rounded down: 2.7 x 33.33 x 1,500 = 134,986.5
    assert fees[("nuisance_permit", "A 33.33 m² workshop (rounded down)")] == 134_986
    # road use (Sragen): 25 m x 4 m x Rp500; 12.5 x 3.75 x 500 = 23,437.5 -> 23,437
    road = [fee for (pid, _), fee in fees.items() if pid == "road_use_permit"]
    assert road == [50_000, 23_437]
    # reklame: 1 x 180,000 + 2 x 600,000 + 3 x 75,000
    assert fees[("advertisement_permit", "A new shop: a name board, two light boxes and three banners")] == 1_605_000
    assert all(fee == 0 for (pid, _), fee in fees.items() if pid == "trade_licence")


def test_every_exemption_is_a_rule_shown_by_a_worked_example_with_fee_zero(cat: catalogue.Catalogue) -> None:
    nuisance = cat.entry("nuisance_permit")
    [exempt] = [e for e in nuisance.fee.worked_examples if e.exemption]
    data = run_worked_example(cat, "nuisance_permit", exempt)
    assert data["nuisance_fee"] == 0 and data["nuisance_fee_breakdown"]["exemption"] == "usaha_pemula"
    assert data["nuisance_fee_breakdown"]["gross_fee"] == 75_600  # what it would have paid
    # the same shop a year and a day after its NIB is no start-up any more: the formula applies
    later = type(exempt)(exempt.title, {**exempt.inputs, "registered_on": "2026-06-03"}, {})
    assert run_worked_example(cat, "nuisance_permit", later)["nuisance_fee"] == 75_600
    # a medium business is never exempt
    medium = type(exempt)(exempt.title, {**exempt.inputs, "business": {"scale": "menengah", "nib_issued_on": "2025-06-02"}}, {})
    assert run_worked_example(cat, "nuisance_permit", medium)["nuisance_fee"] == 75_600


def test_the_catalogue_and_the_diagrams_agree(cat: catalogue.Catalogue) -> None:
    assert check_worked_examples(cat) == []


def test_the_bundle_runs_the_very_fee_scripts_of_each_permit(cat: catalogue.Catalogue) -> None:
    facts = diagram_facts(PROCESSES)
    bundle = facts["bundle_new_shop"]
    for pid in cat.entry("bundle_new_shop").permits:
        [fee_task] = [t for t in cat.entry(pid).fee.script_tasks if t != "compute_total_fee"]
        assert bundle.scripts[fee_task] == facts[pid].scripts[fee_task], fee_task
        # and the same forms for the permit-specific steps
        for task, form in facts[pid].user_task_forms.items():
            if task in bundle.user_task_forms and task not in ("register_application", "check_documents"):
                assert bundle.user_task_forms[task] == form, task


def test_permit_numbers_follow_the_published_format(cat: catalogue.Catalogue) -> None:
    from app.engine.sandbox import make_script_engine

    facts = diagram_facts(PROCESSES)
    for pid in PERMITS:
        data = {"file_number": "X-2026-000001", "file_serial": "2026/000001"}
        make_script_engine().environment.execute(facts[pid].scripts["assign_permit_number"], data)
        fmt = cat.entry(pid).product.number_format
        assert fmt is not None and data["permit_number"] == fmt.format(**data)
        assert data["permit_number"].count("X") == 0  # the file's prefix is not repeated
    data = {"file_number": "PAKET-2026-000001"}
    make_script_engine().environment.execute(facts["bundle_new_shop"].scripts["assign_permit_number"], data)
    # In a bundle the bundle's file number stands in for the serial (so no number is shared with a single file).
    assert data["permit_numbers"] == {
        pid: cat.entry(pid).product.number_format.format(  # type: ignore[union-attr]
            file_serial="PAKET-2026-000001") for pid in cat.entry("bundle_new_shop").permits}


def test_fee_breakdown_lines_in_indonesian_and_english(cat: catalogue.Catalogue) -> None:
    from app.catalogue.fees import fee_breakdown_lines

    [example, *_] = cat.entry("bundle_new_shop").fee.worked_examples
    data = run_worked_example(cat, "bundle_new_shop", example)
    lines = fee_breakdown_lines(cat, "bundle_new_shop", data, "id")
    assert [line.label for line in lines if line.kind == "heading"] == [
        "Retribusi Izin Gangguan (HO)", "Retribusi Surat Izin Usaha Perdagangan (SIUP)",
        "Retribusi Izin Penyelenggaraan Reklame"]
    assert [line.amount for line in lines if line.kind == "subtotal"] == [367_500, 0, 180_000]
    assert lines[-1].kind == "total" and lines[-1].amount == 547_500
    assert ("Indeks gangguan", "2,8") in [(line.label, line.value) for line in lines]
    english = fee_breakdown_lines(cat, "bundle_new_shop", data, "en")
    assert english[-1].label == "Total fee" and ("Nuisance index", "2.8") in [(x.label, x.value) for x in english]
    assert fee_breakdown_lines(cat, "nuisance_permit", {"file_number": "HO-2026-000001"}, "id") == []  # not computed yet


def test_every_form_of_the_new_procedures_accepts_its_sample() -> None:
    forms = FormRegistry(FORMS)
    assert {n for n in forms.names() if not n.startswith("pbg_")} <= set(SAMPLES)
    for name, payload in SAMPLES.items():
        assert forms.validate(name, payload) == [], name


def test_the_document_check_refuses_complete_with_a_required_document_missing() -> None:
    forms = FormRegistry(FORMS)
    data = {**SAMPLES["ho_document_check.json"], "doc_nib": False}
    assert any(e.field == "doc_nib" for e in forms.validate("ho_document_check.json", data))


def _copy_catalogue(tmp_path: Path) -> Path:
    shutil.copytree(PROCESSES / "catalogue", tmp_path / "catalogue")
    return tmp_path / "catalogue"


def test_a_requirement_without_its_document_check_box_is_refused_at_load(tmp_path: Path) -> None:
    directory = _copy_catalogue(tmp_path)
    path = directory / "nuisance_permit.json"
    entry = json.loads(path.read_text("utf-8"))
    entry["requirements"].append({"key": "sertifikat_halal", "label": {"id": "Sertifikat halal", "en": "Halal certificate"},
                                  "required": True})
    path.write_text(json.dumps(entry), "utf-8")
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(directory, PROCESSES, FORMS)
    text = str(raised.value)
    assert "requirement 'sertifikat_halal' has no boolean 'doc_sertifikat_halal' in ho_document_check.json" in text
    assert "is not a document type of ho_registration.json" in text


def test_a_broken_entry_names_every_problem(tmp_path: Path) -> None:
    directory = _copy_catalogue(tmp_path)
    path = directory / "road_use_permit.json"
    entry = json.loads(path.read_text("utf-8"))
    entry["file_prefix"] = "HO"  # HO's
    entry["duration"]["working_days"] = 14  # beyond the legal 10
    entry["fee"]["script_tasks"] = ["compute_road_fee"]
    path.write_text(json.dumps(entry), "utf-8")
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(directory, PROCESSES, FORMS)
    assert "duration/working_days: 14 is greater than the maximum of 10" in str(raised.value)
    entry["duration"]["working_days"] = 5
    path.write_text(json.dumps(entry), "utf-8")
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(directory, PROCESSES, FORMS)
    assert "file_prefix 'HO' is already used by" in str(raised.value)
    assert "has no script task 'compute_road_fee'" in str(raised.value)


def test_a_published_example_that_disagrees_with_the_diagram_is_found(tmp_path: Path) -> None:
    directory = _copy_catalogue(tmp_path)
    path = directory / "road_use_permit.json"
    entry = json.loads(path.read_text("utf-8"))
    entry["fee"]["worked_examples"][0]["expected"]["fee"] = 100_000  # x days would need a different formula
    path.write_text(json.dumps(entry), "utf-8")
    problems = check_worked_examples(load_catalogue(directory, PROCESSES, FORMS, script_helpers=HELPERS))
    [problem] = problems
    assert problem.startswith("road_use_permit: Hajatan") and problem.endswith("fee is 50000, the catalogue publishes 100000")


def test_the_service_does_not_start_on_a_catalogue_that_disagrees_with_its_diagram(tmp_path: Path) -> None:
    from app.config import Settings
    from app.container import Container
    from app.publisher import RecordingPublisher

    processes = tmp_path / "processes"
    processes.mkdir()
    for bpmn in PROCESSES.glob("*.bpmn"):
        shutil.copy(bpmn, processes / bpmn.name)
    directory = _copy_catalogue(processes)
    path = directory / "advertisement_permit.json"
    entry = json.loads(path.read_text("utf-8"))
    entry["fee"]["worked_examples"][1]["expected"]["fee"] = 2_400_000
    path.write_text(json.dumps(entry), "utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", processes_dir=processes,
                        var_dir=tmp_path / "var", broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    with pytest.raises(CatalogueError, match="fee is 2500000, the catalogue publishes 2400000"):
        Container(settings, publisher=RecordingPublisher())
    # The web and the CLI (create_app) refuse the same way; a worker publishes no fee and does not
    # run the examples again at its start (it starts in half the time: benchmarks/startup.py).
    from app import create_app, create_worker_app

    with pytest.raises(CatalogueError, match="fee is 2500000, the catalogue publishes 2400000"):
        create_app(settings, publisher=RecordingPublisher())
    worker = create_worker_app(settings, publisher=RecordingPublisher())
    assert worker.extensions["ptsp"].catalogue.entry("advertisement_permit").fee.worked_examples[1].expected["fee"] \
        == 2_400_000
