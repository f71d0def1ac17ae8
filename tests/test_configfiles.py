"""Config files as a user writes them: a broken one named with its line, the config
files of a Snakemake command line, and where each run writes."""

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, TINY, snakemake

from spikecut.settings import ConfigError
from spikecut.settings.files import configfiles, main, read_config, results_root

BROKEN = "datasets:\n  digits:\n    T: 4\n   epochs: [1, 2\nalphas: ['0']\n"


def test_a_broken_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BROKEN)
    with pytest.raises(ConfigError) as err:
        read_config(path)
    (line,) = err.value.lines
    assert line.startswith(f"config file {path}, line 4, column 4: ")
    path.write_text("- a list\n- not keys\n")
    with pytest.raises(ConfigError, match="its top level must be keys and their values"):
        read_config(path)


def test_a_target_read_as_a_config_file_is_explained(tmp_path, capsys):
    """Snakemake reads every word after --configfile as a config file."""
    (tmp_path / "a.yaml").write_text("seeds: [0]\n")
    argv = ["--configfile", str(tmp_path / "a.yaml"), "results/runs/x/logits.npz", "--cores", "1"]
    assert configfiles(argv) == [str(tmp_path / "a.yaml"), "results/runs/x/logits.npz"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "config file results/runs/x/logits.npz: cannot be read" in err
    assert "name targets before it" in err
    assert configfiles(["--configfile=a.yaml", "-n", "--configfiles", "b.yaml", "c.yaml"]) == [
        "a.yaml",
        "b.yaml",
        "c.yaml",
    ]


def test_each_shipped_config_writes_to_its_own_root(tmp_path):
    default = ROOT / "config" / "config.yaml"
    roots = {
        results_root([], default),
        results_root(["--configfile", str(ROOT / "config" / "paper.yaml")], default),
        results_root(["--configfile", str(TINY)], default),
    }
    assert roots == {"results", "results-paper", "results-tiny"}
    # --config wins over the files, and a later file over an earlier one
    (tmp_path / "mine.yaml").write_text("results: mine\n")
    tiny = str(TINY)
    assert results_root(["--configfile", tiny, str(tmp_path / "mine.yaml")], default) == "mine"
    assert (
        results_root(["--configfile", tiny, "--config", "results=x", "seeds=[0]"], default) == "x"
    )
    assert results_root(["-C", "results=y", "--configfile", tiny], default) == "y"


def test_make_run_names_where_to_look_and_reports_into_the_runs_root():
    result = subprocess.run(
        # --no-print-directory: under `make test` this is a sub-make, which prints its folder
        ["make", "--no-print-directory", "-n", "run",
         "SNAKEMAKE_ARGS=--configfile config/paper.yaml"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    plan = result.stdout
    assert "spikecut.settings.files --configfile config/paper.yaml" in plan  # checked first
    assert "--results-root config/config.yaml --configfile config/paper.yaml" in plan
    assert "report=${report:-$root/report.html}" in plan
    assert plan.rstrip().endswith(
        'echo "Done. Start with $root/summary/headline.md, then $report."'
    )
    # and the line that finds the root finds the paper config's
    root = subprocess.run(
        [sys.executable, "-m", "spikecut.settings.files", "--results-root",
         "config/config.yaml", "--configfile", "config/paper.yaml"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert root == "results-paper\n"


def test_the_workflow_names_a_broken_default_config(tmp_path):
    """Snakemake would say only "Config file is not valid JSON or YAML"."""
    for name in ("Snakefile", "rules", "workflow_scripts", "report", "profiles", "envs"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(BROKEN)
    result = snakemake("-n", "-s", str(tmp_path / "Snakefile"), cwd=tmp_path)
    assert result.returncode != 0
    assert f"config file {tmp_path / 'config' / 'config.yaml'}, line 4, column 4" in (
        result.stdout + result.stderr
    )


def test_the_module_runs_as_a_command(tmp_path):
    (tmp_path / "bad.yaml").write_text(BROKEN)
    command = [sys.executable, "-m", "spikecut.settings.files"]
    result = subprocess.run(
        [*command, "--configfile", str(tmp_path / "bad.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 1 and "line 4, column 4" in result.stderr
