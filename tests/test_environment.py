"""The project's own housekeeping: environments agree, versions are pinned, notebooks are clean."""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

from analysis import config
from analysis.ingest.schemas import DRAWS
from helpers import draws_table

ROOT = config.PROJECT_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~; \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_runtime_dependencies():
    runtime = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == runtime
    assert env["channels"] == ["conda-forge"]
    assert ["-e ."] in [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python>=3.11"


def test_every_dependency_is_pinned():
    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_name(name)] = version
    project = _pyproject()["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    unpinned = [r for r in wanted if _name(r) not in pins]
    assert unpinned == []


def _outputs_found(*notebooks) -> subprocess.CompletedProcess:
    """``nbstripout --verify`` (what ``make lint`` runs): exit 1 when a notebook has outputs."""
    command = [sys.executable, "-m", "nbstripout", "--verify", "--keep-id", *map(str, notebooks)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_notebooks_are_committed_without_outputs(tmp_path):
    done = _outputs_found(*sorted((ROOT / "notebooks").glob("*.ipynb")))
    assert done.returncode == 0, done.stdout
    # the check can fail: one output, or one execution count, is enough
    for key, value in (("outputs", [{"output_type": "stream", "name": "stdout", "text": ["x"]}]),
                       ("execution_count", 1)):  # fmt: skip
        book = json.loads((ROOT / "notebooks" / "1.1-clean.ipynb").read_text())
        next(c for c in book["cells"] if c["cell_type"] == "code")[key] = value
        (tmp_path / "dirty.ipynb").write_text(json.dumps(book))
        assert _outputs_found(tmp_path / "dirty.ipynb").returncode == 1


def test_notebooks_have_a_parameters_cell_and_the_project_kernel():
    import json

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        book = json.loads(path.read_text())
        assert book["metadata"]["kernelspec"]["name"] == config.KERNEL_NAME, path.name
        tagged = [c for c in book["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name


def test_notebooks_hold_no_function_definitions():
    import json

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                assert not re.search(r"^\s*(def|class) ", source, re.M), path.name


def test_project_kernel_runs_this_environment():
    """`make lab` and papermill use the kernel named in the notebooks: it must be this venv's."""
    from jupyter_client.kernelspec import KernelSpecManager

    from analysis.pipeline.notebooks import ensure_kernel, kernel_ready

    ensure_kernel()
    assert kernel_ready()
    spec = KernelSpecManager().get_kernel_spec(config.KERNEL_NAME)
    assert spec.language == "python"


#: Runtime dependencies used without an import statement in src/analysis, and how.
USED_WITHOUT_IMPORT = {
    "pyarrow": "pandas reads and writes the Parquet tables through it",
    "jupyterlab": "`make lab`",
}


def _imported_modules(*folders: str) -> dict[str, set[str]]:
    """Top-level names imported anywhere under ``folders`` (inside functions too) -> files."""
    import ast
    import sys

    found: dict[str, set[str]] = {}
    local = {"analysis", *(p.stem for f in folders for p in (ROOT / f).rglob("*.py"))}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in local:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@functools.cache
def _module_distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return packages_distributions()


def _distributions(module: str) -> set[str]:
    """The distributions (normalized names) that provide the top-level module ``module``."""
    return {_name(d) for d in _module_distributions().get(module, [])}


def test_every_third_party_import_is_declared():
    """src/ imports only runtime dependencies; tests and benchmarks also dev ones."""
    project = _pyproject()["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    for folders, declared in ((("src",), runtime), (("tests", "benchmarks"), runtime | dev)):
        undeclared = {
            module: sorted(files)
            for module, files in _imported_modules(*folders).items()
            if not _distributions(module) & declared
        }
        assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_runtime_dependency_is_used():
    runtime = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    imported = set().union(*(_distributions(m) for m in _imported_modules("src")))
    assert runtime - imported - set(USED_WITHOUT_IMPORT) == set()
    assert set(USED_WITHOUT_IMPORT) <= runtime


# ------------------------------------------------------------------ the tests' own tables


@pytest.mark.parametrize(
    "extra", [("drawn_at", "tie_break_at"), ("distribution_date",)], ids=["times", "pool dates"]
)
def test_hand_built_draws_have_the_columns_and_dtypes_of_clean_rounds(extra):
    """``helpers.draws_table`` (the hand-built draws of the trends, baselines and stats tests)
    passes the schema cleaning's draws pass, with each kind of extra column and empty values."""
    values = {
        "drawn_at": ["2023-01-10 14:00:00", None],
        "tie_break_at": ["2023-01-09 12:30:00", None],
        "distribution_date": ["2023-01-09", None],
    }
    rows = [
        ("1", "2023-01-10", "all_program", 3000, 500, *(values[e][0] for e in extra)),
        ("2", "2023-01-20", "stem", 200, None, *(values[e][1] for e in extra)),
        ("3", "2023-03-27", "cec", 3000, 530),
        ("4", "2023-07-16", "french", 2000, 400),
    ]
    draws = draws_table(rows, extra=extra)
    DRAWS.validate(draws)
    assert list(draws.columns) == list(DRAWS.columns)


# ------------------------------------------------------------------ imports flow one way

#: The package's layers, lowest first: a module imports only from its own layer or below.
LAYERS = (
    ("config", "errors", "vocabulary", "storage", "taxonomy"),  # words, paths, files
    ("ingest", "data"),  # the feed -> the processed tables
    ("trends", "baselines", "pool", "stats", "forecast"),  # the analysis
    ("report",),
    ("publish",),
    ("pipeline",),
    ("cli", "__main__"),
)
SRC = ROOT / "src" / "analysis"


def _module_name(path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:  # the package itself: its lazy exports reach every layer
        return None
    return next(i for i, names in enumerate(LAYERS) if parts[1] in names)


def _own_imports(nodes) -> list[tuple[str, int]]:
    """(module of the package, line) for every import among ``nodes``."""
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "analysis":
            for alias in node.names:
                if node.module != "analysis":
                    found.append((node.module, node.lineno))
                elif not alias.name.startswith("__"):  # __version__
                    found.append((f"analysis.{alias.name}", node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("analysis.")]
    return found


def _trees() -> dict:
    return {
        _module_name(path): (path, ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(SRC.rglob("*.py"))
    }


def test_imports_flow_one_way():
    """ingest -> tables -> analysis -> report -> publish -> pipeline -> cli: no module imports a
    layer above its own, at module level or inside a function."""
    upward = []
    for module, (path, tree) in _trees().items():
        for imported, line in _own_imports(ast.walk(tree)):
            low, high = _layer(module), _layer(imported)
            if low is not None and high is not None and high > low:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert upward == []


def test_module_level_imports_have_no_cycle():
    trees = _trees()
    graph = {
        module: {name for name, _ in _own_imports(tree.body) if name in trees} - {module}
        for module, (_, tree) in trees.items()
    }
    graph["analysis"] = set()  # the package's lazy exports are imported on first use only
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            raise AssertionError(f"import cycle: {' -> '.join(path[path.index(module) :])}")
        if module not in done:
            for imported in sorted(graph[module]):
                visit(imported, (*path, module))
            done.add(module)

    for module in sorted(graph):
        visit(module, ())


#: Imports of the package's own modules below module level (in a function, or under ``if``):
#: each saves start-up time (a heavy library only when it is used) or breaks a cycle, and says
#: which on its own line (``# lazy: <reason>``). Issue 18's target: at most 10.
MAX_LAZY_IMPORTS = 10


def test_own_imports_below_module_level_are_few_and_say_why():
    lazy = []
    for path, tree in _trees().values():
        at_top = {id(node) for node in tree.body}
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            own = isinstance(node, ast.ImportFrom) and node.level > 0 or _own_imports([node])
            if own and id(node) not in at_top:
                lazy.append((f"{path.relative_to(ROOT)}:{node.lineno}", lines[node.lineno - 1]))
    assert [where for where, line in lazy if "# lazy: " not in line] == []
    assert len(lazy) <= MAX_LAZY_IMPORTS, [where for where, _ in lazy]


def test_the_readme_names_every_module():
    """The README's tree and table of "The analysis helpers" name every module of the package
    (a module added, moved or renamed updates them)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    helpers = readme.split("## The analysis helpers", 1)[1].split("\n## ", 1)[0]
    tree = set(re.findall(r"[\w.]+", helpers.split("```", 2)[1]))
    table = set(re.findall(r"`([\w.]+)`", helpers))
    modules = [
        path.relative_to(SRC).with_suffix("").parts
        for path in sorted(SRC.rglob("*.py"))
        if path.stem != "__init__"
    ]
    assert [p for p in modules if p[-1] not in tree and f"{p[-1]}.py" not in tree] == []
    dotted = [".".join(p) for p in modules if p[-1] != "__main__"]
    assert [m for m in dotted if m not in table and m.rsplit(".", 1)[-1] not in table] == []


#: Issue 18's limit on a module's length (a module past it is split by what it holds).
MAX_MODULE_LINES = 600


def test_no_module_is_longer_than_the_limit():
    long = {
        str(path.relative_to(SRC)): n
        for path in sorted(SRC.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
