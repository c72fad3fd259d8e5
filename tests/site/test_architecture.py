"""The layers hold: imports point down (dsp, core, accounts, jobs, modelzoo, experiments, insights, site)."""

import ast
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_points_down_the_layers_and_nothing_imports_itself_back(capsys):
    call_command("import_graph")

    out = capsys.readouterr().out
    assert "Every import points down the layers" in out
    assert "dsp          -> (nothing of ours)" in out


def test_the_dsp_package_knows_nothing_of_django_or_tensorflow():
    for path in (ROOT / "dsp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"django", "tensorflow", "keras", "rest_framework"}, (path, name)


def test_the_graph_sees_an_import_up_the_layers_and_a_module_cycle(tmp_path):
    from ddevis_site.management.commands.import_graph import import_edges, module_cycles

    (tmp_path / "dsp").mkdir()
    (tmp_path / "core").mkdir()
    (tmp_path / "dsp" / "a.py").write_text("def f():\n    from core.b import g\n")
    (tmp_path / "core" / "b.py").write_text("from dsp.a import f\n")

    edges = import_edges(tmp_path, ["dsp", "core"])

    assert edges["dsp"]["core"] == {"dsp/a.py"}
    assert module_cycles(tmp_path, ["dsp", "core"]) == [("core.b", "dsp.a")]
