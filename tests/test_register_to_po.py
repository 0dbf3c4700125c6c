"""scripts/register_to_po.py moves register({...}) English into the catalogue, and can run again after merges."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.config import ROOT

FEATURE = '''"""A feature with its texts."""
from __future__ import annotations

from app.i18n import gettext, register

STATES = {"open": "Terbuka", "closed": "Ditutup"}  # shown with gettext(STATES[state])

register({
    "Halo {name}": "Hello {name}",
    "Terbuka": "Open",
    "Ditutup": "Closed",
    "{n} berkas": "{n} files",
})


def greet(name: str) -> str:
    return gettext("Halo {name}", name=name)
'''

COUNTED = '''from app.i18n import register_singular

register_singular({"{n} berkas": "{n} file"})
'''

I18N = '''def register(english): ...
def register_singular(english): ...
def gettext(text, **values): ...
def N_(text): return text
'''

TEMPLATE = '<p>{{ _("{n} berkas", n=count) }} {{ _("Halo {name}", name=who) }}</p>\n'

EMPTY_PO = '''msgid ""
msgstr ""
"Language: en\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"Content-Type: text/plain; charset=utf-8\\n"
'''


@pytest.fixture()
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("register_to_po", ROOT / "scripts" / "register_to_po.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["register_to_po"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules["register_to_po"]


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "app" / "templates").mkdir(parents=True)
    (tmp_path / "app" / "translations" / "en" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    (tmp_path / "app" / "i18n.py").write_text(I18N)
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "feature.py").write_text(FEATURE)
    (tmp_path / "app" / "counted.py").write_text(COUNTED)
    (tmp_path / "app" / "templates" / "page.html").write_text(TEMPLATE)
    (tmp_path / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po").write_text(EMPTY_PO)
    return tmp_path


def catalogue(tree: Path) -> dict[str, object]:
    with (tree / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(po) if m.id}


def test_the_english_moves_into_the_catalogue_and_the_calls_go(script: ModuleType, tree: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert script.main(["--root", str(tree)]) == 0
    report = capsys.readouterr().out
    assert "2 register calls converted, 5 pairs (4 added" in report

    assert catalogue(tree) == {"Halo {name}": "Hello {name}", "Terbuka": "Open", "Ditutup": "Closed",
                               "{n} berkas": ("{n} file", "{n} files")}
    with (tree / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as mo:
        assert {m.id: m.string for m in read_mo(mo) if isinstance(m.id, str)}["Terbuka"] == "Open"

    feature = (tree / "app" / "feature.py").read_text()
    assert "register" not in feature
    assert "from app.i18n import N_, gettext" in feature
    assert 'STATES = {"open": N_("Terbuka"), "closed": N_("Ditutup")}' in feature  # extraction finds them now
    assert "\n\n\n\n" not in feature
    assert "register" not in (tree / "app" / "counted.py").read_text()
    assert '{{ ngettext("{n} berkas", "{n} berkas", count) }}' in (tree / "app" / "templates" / "page.html").read_text()


def test_it_runs_again_after_other_branches_add_register_calls(script: ModuleType, tree: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    script.main(["--root", str(tree)])
    po = tree / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    converted = {path: path.read_text() for path in (tree / "app").rglob("*.py")}
    converted[po] = po.read_text()
    capsys.readouterr()

    assert script.main(["--root", str(tree)]) == 0  # nothing left to do: nothing changes
    assert "0 register calls converted" in capsys.readouterr().out
    assert {path: path.read_text() for path in [*(tree / "app").rglob("*.py"), po]} == converted

    (tree / "app" / "later.py").write_text(
        'from app.i18n import gettext, register\n\nregister({"Baru": "New", "Terbuka": "Opened"})\n\n\n'
        'def label() -> str:\n    return gettext("Baru")\n')
    assert script.main(["--root", str(tree)]) == 1  # a conflict needs a person
    report = capsys.readouterr().out
    assert "'Terbuka': catalogue has 'Open', app/later.py:3 says 'Opened' (catalogue kept)" in report
    assert catalogue(tree)["Baru"] == "New"
    assert catalogue(tree)["Terbuka"] == "Open"
    assert "register" not in (tree / "app" / "later.py").read_text()


def test_a_call_it_cannot_read_is_left_for_a_person(script: ModuleType, tree: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app" / "dynamic.py").write_text(
        'from app.i18n import register\n\nLABELS = {"a": ("Satu", "One")}\n\n'
        'register({indonesian: english for indonesian, english in LABELS.values()})\n')
    assert script.main(["--root", str(tree), "--dry-run"]) == 1
    assert "app/dynamic.py:5: register({indonesian: english" in capsys.readouterr().out
    assert "register({" in (tree / "app" / "feature.py").read_text()  # a dry run writes nothing
