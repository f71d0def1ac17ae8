"""What a user who cites, licenses or upgrades spikecut reads: the licence, the citation
file, the changelog, the version every result names, and the install that gets it."""

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from packaging.requirements import Requirement

from spikecut import __version__
from spikecut.machine import describe

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_licence_is_the_one_pyproject_declares():
    assert PYPROJECT["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_the_citation_file_names_this_version_and_the_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == __version__
    assert cff["license"] == "MIT"
    paper = cff["preferred-citation"]
    assert paper["title"].startswith("Optimising Event-Driven Spiking Neural Network")
    assert [a["family-names"] for a in paper["authors"]] == ["Wu", "Jin", "Yu", "Yi", "Huang"]
    assert {"type": "other", "value": "arXiv:2301.09522", "description": "the preprint"} in (
        paper["identifiers"]
    )


def test_the_changelog_starts_at_this_version():
    headings = [
        line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("## ")
    ]
    assert headings[0].startswith(f"## {__version__} ")


def test_every_result_names_the_version_that_made_it():
    # the machine line heads the summary, the headline and spikecut analyse's summary
    assert describe("cpu").endswith(f", spikecut {__version__}")
    # the installed package's own metadata (pyproject.toml reads the version from the code)
    assert metadata.version("spikecut") == __version__, "the install is stale: make install"


def test_the_install_is_quiet_and_keeps_pip_in_a_log(tmp_path):
    """pip's notices go to the log, the console gets one line; a failing pip prints
    the end of the log and where the whole of it is."""
    script = ROOT / "tools" / "install_deps.py"
    done = subprocess.run(
        [sys.executable, str(script), "--target", str(tmp_path / "plugin"), "slurm"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    log = Path(sys.prefix) / "pip-install.log"  # the environment's own, writable here
    assert done.stdout == f"installing with pip (log: {log})\n" and done.stderr == ""
    assert "snakemake-executor-plugin-slurm" in log.read_text()
    assert (tmp_path / "plugin" / "snakemake_executor_plugin_slurm").is_dir()

    spec = importlib.util.spec_from_file_location("install_deps", script)
    install_deps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install_deps)
    with pytest.raises(SystemExit, match=r"(?s)no-such-package.*pip failed; its whole log is "):
        install_deps._pip(
            [sys.executable, "-m", "pip", "install", "--no-index", "no-such-package-spikecut"],
            tmp_path / "pip.log",
        )


def test_a_first_install_stops_before_pip_on_a_full_disk(tmp_path, monkeypatch):
    """A disk too small for torch's CUDA build stops the install with what it needs and
    has, before pip fills the disk; an environment that has torch is only updated."""
    spec = importlib.util.spec_from_file_location(
        "install_deps", ROOT / "tools" / "install_deps.py"
    )
    install_deps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install_deps)
    free = shutil.disk_usage(tmp_path).free / 1e9
    install_deps.check_space(tmp_path)  # torch is here: nothing to check
    monkeypatch.setattr(install_deps.importlib.util, "find_spec", lambda name: None)
    install_deps.check_space(tmp_path, needed_gb=0.0)
    where = re.escape(str(tmp_path))
    message = (
        rf"needs about {free + 1:.0f} GB free on the disk of {where}, which has \d+\.\d GB: "
        rf"free some space there \(`df -h {where}`"
    )
    with pytest.raises(SystemExit, match=message):
        install_deps.check_space(tmp_path, needed_gb=free + 1)


def test_the_conda_environment_is_current_and_resolves_like_the_install(tmp_path):
    """What can be checked offline of `--sdm conda`: the files are generated from
    pyproject.toml and current, Python is pinned, every pip line is met by the
    project's own install, and the post-deploy script adds, without their dependency
    lists, exactly the packages the install takes that way. Creating the environment
    needs conda and the internet, which the tests do not have."""
    script = ROOT / "tools" / "install_deps.py"
    subprocess.run([sys.executable, str(script), "--conda-env", str(tmp_path)], check=True)
    for name in ("spikecut.yaml", "spikecut.post-deploy.sh"):
        assert (tmp_path / name).read_text() == (ROOT / "envs" / name).read_text(), name
    env = yaml.safe_load((ROOT / "envs" / "spikecut.yaml").read_text())
    assert "python=3.11" in env["dependencies"]
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    for line in pip:
        requirement = Requirement(line)
        assert requirement.specifier.contains(metadata.version(requirement.name)), line
    deploy = ROOT / "envs" / "spikecut.post-deploy.sh"
    assert deploy.stat().st_mode & 0o111  # Snakemake runs it by its shebang
    isolated = [d for d in PYPROJECT["dependencies"] if d.startswith("spikingjelly")]
    assert deploy.read_text().splitlines()[-1] == (
        f'python -m pip install --no-deps "{isolated[0]}"'
    )
    assert not any(line.startswith("spikingjelly") for line in pip)


def test_the_project_points_to_nothing_outside_it():
    """The method is docs/method.md's: no file names a specification a clone lacks, and
    code cites no issue numbers, which mean nothing outside the tracker."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    code = (".py", ".sh", ".smk", ".yaml", ".toml", "Snakefile", "Makefile")
    outside, issues = [], []
    for name in files:
        path = ROOT / name
        if not path.is_file() or name == "tests/test_project.py":  # names them to find them
            continue
        text = path.read_text(errors="replace")
        if "../shared" in text or re.search(r"\bSPEC\b", text):
            outside.append(name)
        if name.endswith(code) and re.search(r"\bissues? #?\d+", text, re.I):
            issues.append(name)
    assert not outside and not issues, (outside, issues)


def test_a_bare_pytest_collects_the_tests_that_import_each_other():
    pytest_bin = Path(sys.executable).parent / "pytest"
    done = subprocess.run(
        [str(pytest_bin), "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_slurm.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def _module_imports() -> dict[str, set[str]]:
    """Each spikecut module's imports of other spikecut modules at module level, with
    the packages whose ``__init__`` such an import runs."""
    files = {}
    for path in (ROOT / "spikecut").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        files[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in files.items():
        found = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        parents = {".".join(m.split(".")[:i]) for m in found for i in range(2, m.count(".") + 1)}
        graph[name] = {
            m
            for m in (found | parents) & set(files)
            if m != name and not name.startswith(m + ".")  # a module's own package
        }
    return graph


def test_no_module_imports_itself_round_a_circle():
    graph, done, path = _module_imports(), set(), []

    def visit(module):
        if module in path:
            pytest.fail("import circle: " + " -> ".join(path[path.index(module) :] + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(graph[module]):
            visit(other)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
