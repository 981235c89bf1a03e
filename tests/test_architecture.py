"""The package's layers (docs/architecture.md): every module imports, nothing imports upward,
there are no import cycles, and the lower layers start without torch."""
import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mcorec_torch"

#: Layer of each part of the package, lowest first. A module may import its own part and parts
#: of lower layers only; parts that share a layer ("beside" each other) do not import each other.
LAYERS = [
    {"errors", "checks"},
    {"timeline", "_io"},
    {"corpus"},
    {"media"},
    {"index", "text", "lips"},
    {"data"},
    {"transforms", "qa", "synthetic", "hypotheses", "gpu"},
    {"config", "bench", "export", "viz"},
    {"train", "lightning"},
    {"commands"},
    {"cli"},  # the entry point: runs the commands (commands._exit gives the exit status)
    {"__init__"},  # the public names
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules():
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part_of(name: str) -> str:
    pieces = name.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def resolve(importer: str, is_package: bool, node: ast.AST, known) -> list:
    """Absolute ``mcorec_torch`` modules an import statement names (module level or in a function)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "mcorec_torch"]
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "mcorec_torch":
        return []
    found = []
    for alias in node.names:  # `from . import audio` names a module; `from .x import y` names y in x
        sub = f"{target}.{alias.name}"
        found.append(sub if sub in known else target)
    return found


def import_graph():
    known = modules()
    graph = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets.update(resolve(name, path.name == "__init__.py", node, known))
        graph[name] = {t for t in targets if t != name}
    return graph


def test_every_part_has_a_layer():
    parts = {part_of(name) for name in modules()}
    assert parts <= set(RANK), f"parts without a layer in LAYERS (and docs/architecture.md): {parts - set(RANK)}"


def test_no_upward_or_sideways_imports():
    wrong = []
    for importer, targets in import_graph().items():
        for target in targets:
            a, b = part_of(importer), part_of(target)
            if a != b and RANK[b] >= RANK[a]:
                wrong.append(f"{importer} imports {target} ({a} is layer {RANK[a]}, {b} layer {RANK[b]})")
    assert wrong == []


def test_no_import_cycles():
    graph = import_graph()
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_the_static_check_sees_relative_and_function_level_imports():
    """Planted imports resolve to what they name, so an upward one would be reported."""
    known = {"mcorec_torch.data.dataset", "mcorec_torch.media.audio", "mcorec_torch._io"}
    tree = ast.parse("def f():\n    from ..data.dataset import MCoRecDataset\n"
                     "from . import audio\nfrom .. import _io\nimport numpy\n")
    found = [t for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for t in resolve("mcorec_torch.media.cache", False, node, known)]
    assert sorted(found) == ["mcorec_torch._io", "mcorec_torch.data.dataset", "mcorec_torch.media.audio"]
    assert RANK[part_of("mcorec_torch.data.dataset")] > RANK[part_of("mcorec_torch.media.cache")]
    assert resolve("mcorec_torch.data", True, ast.parse("from .reader import SegmentReader").body[0],
                   set()) == ["mcorec_torch.data.reader"]


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_corpus_and_index_import_no_torch():
    code = ("import sys, mcorec_torch.corpus, mcorec_torch.index, mcorec_torch.media, mcorec_torch.qa.check; "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_no_module_is_much_over_400_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > 420}
    assert long == {}
