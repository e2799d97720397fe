"""The tree's dependencies point one way (docs/architecture.md): no import circle among the bridge's modules and
the detectors, and components (receivers, processors, exporters) know only the component contract, never the
config loader, the registry, the service or the CLI. Every import counts, also those under TYPE_CHECKING and
inside functions: a circle hidden there still means no module of it can be read or tested apart."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
PACKAGES = ("bridge", "detectors")
COMPONENTS = ("bridge.receivers", "bridge.processors", "bridge.exporters")
# Above the components: what loads the config and runs them.
# docs/architecture.md's layers, bottom first: a module imports only modules of its own layer or below (the
# longest prefix names a module's layer; a package whose `__init__` imports nothing is below everything).
LAYERS = (
    ("bridge", "bridge.config.durations", "bridge.state_files", "bridge.http.errors", "bridge.dify.formats"),
    (
        "bridge.dify",
        "bridge.trace",
        "bridge.http.body",
        "bridge.http.credentials",
        "bridge.http.protocol",
        "bridge.http.query",
    ),
    ("bridge.processors", "detectors", "bridge.queue", "bridge.exporters", "bridge.telemetry"),
    ("bridge.management", "bridge.http.security_headers", "bridge.http.live", "bridge.http.queue_answers"),
    ("bridge.receivers",),
    ("bridge.config",),
    ("bridge.service",),
    ("bridge.http.server",),
    ("bridge.cli",),
)
ABOVE_COMPONENTS = ("bridge.config.loader", "bridge.config.registry", "bridge.service", "bridge.http.server",
                    "bridge.cli")  # fmt: skip


def module_names(root: Path) -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the project's modules it imports; importing `a.b.c` also runs its packages `a.b` and `a`."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolved against this module's package
                    package = name.split(".") if is_package else name.split(".")[:-1]
                    base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
                # `from pkg import mod` imports the module `pkg.mod`; `from mod import name` the module `mod`.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `import a.b.c.attr`-like forms: the deepest module
                    target = target.rpartition(".")[0]
                while target:
                    if target != name:
                        graph[name].add(target)
                    target = target.rpartition(".")[0]
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        found: list[str] = exc.args[1]
        return found
    return None


def test_no_import_circle() -> None:
    found = cycle(import_graph(REPO))
    assert found is None, "import circle: " + " → ".join(found or [])


def test_components_know_only_the_component_contract() -> None:
    graph = import_graph(REPO)
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        if name.startswith(COMPONENTS)
        for target in targets
        if target.startswith(ABOVE_COMPONENTS)
    )
    assert not wrong


def layer(graph: dict[str, set[str]], module: str) -> int:
    ancestors = {module.rsplit(".", n)[0] for n in range(1, module.count(".") + 1)}
    if graph[module] <= ancestors and module in {m.rpartition(".")[0] for m in graph}:
        return -1  # a package that only says what it holds
    matches = [(len(p), i) for i, prefixes in enumerate(LAYERS) for p in prefixes if f"{module}.".startswith(f"{p}.")]
    return max(matches)[1]


def test_every_module_imports_only_its_own_layer_or_below() -> None:
    graph = import_graph(REPO)
    layers = {name: layer(graph, name) for name in graph}
    wrong = sorted(
        f"{name} (layer {layers[name]}) imports {target} (layer {layers[target]})"
        for name, targets in graph.items()
        for target in targets
        if layers[target] > layers[name]
    )
    assert not wrong


def test_http_errors_lie_below_the_queue_and_the_receivers() -> None:
    graph = import_graph(REPO)
    assert graph["bridge.http.errors"] <= {"bridge", "bridge.http"}
    assert "bridge.http.errors" in graph["bridge.receivers"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.py": "from bridge import b\n", "b.py": "if TYPE_CHECKING:\n    import bridge.a\n"}, True),
        ({"a.py": "def f():\n    from bridge.b import x\n", "b.py": "from bridge.a import y\n"}, True),
        ({"p/__init__.py": "from bridge.a import x\n", "p/m.py": "", "a.py": "from bridge.p.m import z\n"}, True),
        ({"a.py": "from bridge import b\n", "b.py": "import json\n"}, False),
    ],
)
def test_the_check_sees_circles_through_every_kind_of_import(
    tmp_path: Path, files: dict[str, str], expected: bool
) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / "bridge" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert (cycle(import_graph(tmp_path)) is not None) is expected
