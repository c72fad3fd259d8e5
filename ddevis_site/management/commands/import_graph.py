"""Print which of the project's packages imports which; fail on a cycle or an import up the layers."""

import ast
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# The project's own top-level packages, lowest layer first (the order the README explains).
PACKAGES = ["dsp", "core", "accounts", "jobs", "modelzoo", "experiments", "insights", "workshop", "live", "ddevis_site"]


def import_edges(root: Path, packages: list[str]) -> dict[str, dict[str, set[str]]]:
    """For each package, the packages it imports and from which of its files (tests and migrations excluded)."""
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for package in packages:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    target = name.split(".")[0]
                    if target in packages and target != package:
                        edges[package][target].add(str(path.relative_to(root)))
    return edges


def module_cycles(root: Path, packages: list[str]) -> list[tuple[str, str]]:
    """Pairs of modules that import each other (at any depth of the file, lazily or not)."""
    imports: dict[str, set[str]] = defaultdict(set)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imports[module].add(node.module)
                    imports[module].update(f"{node.module}.{alias.name}" for alias in node.names)
                elif isinstance(node, ast.Import):
                    imports[module].update(alias.name for alias in node.names)
    return sorted(
        {(a, b) if a < b else (b, a) for a in imports for b in imports[a] if b != a and a in imports.get(b, ())}
    )


class Command(BaseCommand):
    help = "Print the import graph between the project's packages; fail on a cycle or an import up the layers."

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        edges = import_edges(root, PACKAGES)
        for package in PACKAGES:
            if not (root / package).is_dir():
                continue
            targets = sorted(edges.get(package, {}), key=PACKAGES.index)
            self.stdout.write(f"{package:12} -> {', '.join(targets) if targets else '(nothing of ours)'}")
        problems = [
            f"{a} <-> {b}: {', '.join(sorted(edges[a][b]))} / {', '.join(sorted(edges[b][a]))}"
            for a in edges
            for b in edges[a]
            if a < b and a in edges.get(b, {})
        ]
        problems += [
            f"{a} -> {b} points up the layers: {', '.join(sorted(edges[a][b]))}"
            for a in edges
            for b in edges[a]
            if PACKAGES.index(b) > PACKAGES.index(a)
        ]
        problems += [f"module cycle: {a} <-> {b}" for a, b in module_cycles(root, PACKAGES)]
        if problems:
            raise CommandError("The layers do not hold:\n" + "\n".join(problems))
        message = "Every import points down the layers; no cycle between packages or modules."
        self.stdout.write(self.style.SUCCESS(message))
