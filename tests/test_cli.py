"""``spikecut analyse`` on synthetic outputs: what it writes, and one line for each bad
input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from spikecut.cli import main
from spikecut.cutoff import StepOutputs, sweep
from spikecut.outputs import collect, from_time_major, load_outputs, save_outputs
from spikecut.settings import CutoffConfig
from spikecut.stages.standalone import FILES

T, C = 6, 5


def outputs(n, seed, steps=T, classes=C):
    """Logits whose true class gains a per-sample margin at every step."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, steps, classes))
    logits[np.arange(n), :, labels] += rng.uniform(0, 1.5, (n, 1))
    return logits.astype(np.float32), labels


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, n, seed in (("cal", 400, 0), ("val", 300, 1), ("test", 500, 2)):
        paths[name] = tmp_path / f"{name}.npz"
        np.savez(paths[name], *(), **dict(zip(("logits", "labels"), outputs(n, seed))))
    return paths


def analyse(*args) -> int:
    return main(["analyse", *map(str, args), "-q"])


def test_analyse_writes_a_runs_files_equal_to_the_library(files, tmp_path):
    out = tmp_path / "out"
    assert analyse(files["cal"], files["test"], "--val", files["val"], "-o", out) == 0
    for relative in FILES.values():
        assert (out / relative).stat().st_size > 0, relative
    curves = pd.read_csv(out / "cutoff.csv")
    assert set(curves["split"]) == {"test", "val"}
    assert (curves[["dataset", "method"]].drop_duplicates().values == [["test", "model"]]).all()
    test_rows = curves[curves["split"] == "test"].reset_index(drop=True)
    expected, hist = sweep(
        load_outputs(files["test"]), load_outputs(files["cal"]), **CutoffConfig().sweep_options()
    )
    pd.testing.assert_frame_equal(
        test_rows[["policy", "value", "accuracy", "mean_timesteps"]],
        expected[["policy", "value", "accuracy", "mean_timesteps"]],
    )
    exits = pd.read_csv(out / "exits.csv")
    assert exits["count"].sum() == hist["count"].sum()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["protocol"]) == {"held-out", "paper"}
    # the paper protocol's fixed-T point is the fewest steps within the tolerance on test
    fixed = load_outputs(files["test"]).fixed_step_accuracy()
    within = np.flatnonzero(fixed >= fixed[-1] - 0.005 - 1e-12)[0] + 1
    paper_T = summary[
        (summary["protocol"] == "paper")
        & (summary["policy"] == "timestep")
        & (summary["quantity"] == "mean_timesteps")
    ]
    assert paper_T["estimate"].item() == pytest.approx(within)
    assert "held-out protocol" in (out / "summary.md").read_text()


def test_without_validation_only_the_paper_protocol(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert analyse(files["cal"], files["test"], "-o", out, "--policies", "confidence") == 0
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["protocol"]) == {"paper"}
    # the baseline and Top-K join whatever is asked for
    assert set(summary["policy"].str.removesuffix("-raw")) == {"timestep", "topk", "confidence"}
    assert "give --val for held-out" in capsys.readouterr().out


def test_options_reach_the_sweep(files, tmp_path):
    out = tmp_path / "out"
    args = ["--epsilons", "0.05,0.1", "--raw", "0", "--histogram-epsilon", "0.1"]
    assert analyse(files["cal"], files["test"], "-o", out, *args, "--tolerance", "2") == 0
    curves = pd.read_csv(out / "cutoff.csv")
    assert sorted(curves[curves["policy"] == "topk"]["value"].unique()) == [0.05, 0.1]
    assert not curves["policy"].str.endswith("-raw").any()
    settings = (out / "settings.json").read_text()
    assert '"max_accuracy_loss_pp": 2.0' in settings and str(files["test"]) in settings


def test_torch_files_and_time_major_outputs(tmp_path):
    logits, labels = outputs(200, 3)
    time_major = torch.from_numpy(logits).permute(1, 0, 2)
    np.testing.assert_array_equal(from_time_major(time_major), logits)
    torch.save(
        {"logits": torch.from_numpy(logits), "labels": torch.from_numpy(labels)}, tmp_path / "a.pt"
    )
    np.testing.assert_array_equal(load_outputs(tmp_path / "a.pt").logits, logits)
    saved = save_outputs(tmp_path / "b.npz", time_major, labels, time_major=True)
    np.testing.assert_array_equal(load_outputs(tmp_path / "b.npz").logits, saved.logits)
    got = collect(
        lambda x: x, [(time_major[:, :120], labels[:120]), (time_major[:, 120:], labels[120:])]
    )
    np.testing.assert_array_equal(got.logits, logits)
    np.testing.assert_array_equal(got.labels, labels)
    bf16 = StepOutputs(torch.from_numpy(logits).bfloat16(), labels)
    assert bf16.logits.dtype == np.float32
    assert analyse(tmp_path / "a.pt", tmp_path / "b.npz", "-o", tmp_path / "out") == 0


def _bad_files(tmp_path):
    logits, labels = outputs(50, 4)
    cases = {}

    def write(name, **arrays):
        np.savez(tmp_path / name, **arrays)
        return tmp_path / name

    cases["missing"] = (tmp_path / "nowhere.npz", "no such file")
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 not really")
    cases["not a zip"] = (tmp_path / "corrupt.npz", "is not an .npz (zip) archive, or is truncated")
    np.savez(tmp_path / "whole.npz", logits=logits, labels=labels)
    whole = (tmp_path / "whole.npz").read_bytes()
    # a zip whose directory survives but whose data do not
    damaged = whole[:200] + b"\0" * (len(whole) - 500) + whole[-300:]
    (tmp_path / "damaged.npz").write_bytes(damaged)
    cases["damaged"] = (tmp_path / "damaged.npz", "is not a readable .npz archive")
    np.save(tmp_path / "single.npy", logits)
    cases["npy"] = (tmp_path / "single.npy", "is a single .npy array")
    torch.save({"logits": logits, "labels": labels}, tmp_path / "numpy.pt")
    cases["numpy in torch"] = (tmp_path / "numpy.pt", "holds objects other than torch tensors")
    np.savez(tmp_path / "strings.npz", logits=logits, labels=np.array(["cat"] * 50))
    cases["string labels"] = (tmp_path / "strings.npz", "map class names to indices first")
    np.savez(tmp_path / "complex.npz", logits=logits * 1j, labels=labels)
    cases["complex"] = (tmp_path / "complex.npz", "logits must be real numbers")
    (tmp_path / "corrupt.pt").write_bytes(b"\x80\x02 not a pickle")
    cases["corrupt torch"] = (tmp_path / "corrupt.pt", "is not a readable torch.save file")
    torch.save([1, 2], tmp_path / "list.pt")
    cases["torch list"] = (tmp_path / "list.pt", "holds a list, not a dict")
    cases["no labels"] = (
        write("nolabels.npz", logits=logits, targets=labels),
        "lacks ['labels'] (it holds ['logits', 'targets'])",
    )
    cases["flat"] = (write("flat.npz", logits=logits[:, 0], labels=labels), "must be [N, T, C]")
    cases["labels shape"] = (
        write("shape.npz", logits=logits, labels=labels[:-1]),
        "labels must be [N] = [50]",
    )
    cases["time-major"] = (
        write("tnc.npz", logits=logits.transpose(1, 0, 2), labels=labels),
        "the logits look time-major [T, N, C]",
    )
    bad = labels.copy()
    bad[7] = C
    cases["labels"] = (write("labels.npz", logits=logits, labels=bad), "labels must lie in [0, 5)")
    cases["1-based"] = (
        write("onebased.npz", logits=logits, labels=np.r_[1, C, labels[2:] + 1]),
        "they look 1-based: subtract 1",
    )
    cases["objects"] = (
        write("objects.npz", logits=np.array([logits], dtype=object), labels=labels),
        "'logits' holds Python objects, not a numeric array",
    )
    nan = logits.copy()
    nan[3, 2, 1] = np.nan
    cases["nan"] = (write("nan.npz", logits=nan, labels=labels), "logits contain NaN")
    short, short_labels = outputs(50, 5, steps=T - 2)
    cases["T"] = (write("short.npz", logits=short, labels=short_labels), "= [*, 4, 5] but the test")
    few, few_labels = outputs(50, 6, classes=C - 1)
    cases["C"] = (write("few.npz", logits=few, labels=few_labels), "= [*, 6, 4] but the test")
    return cases


@pytest.mark.parametrize(
    "case",
    ["missing", "not a zip", "damaged", "npy", "numpy in torch", "string labels",
     "complex", "corrupt torch", "torch list", "no labels", "flat",
     "labels shape", "time-major", "labels", "1-based", "objects", "nan", "T", "C"],
)  # fmt: skip
def test_a_bad_file_is_one_line(case, files, tmp_path, capsys):
    path, message = _bad_files(tmp_path)[case]
    for args in ((path, files["test"]), (files["cal"], files["test"], "--val", path)):
        assert analyse(*args, "-o", tmp_path / "out") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("spikecut analyse: error: ")
        assert message in err and str(path) in err
    assert not any((tmp_path / "out").iterdir()), "a failed analysis wrote files"


def test_one_sample_gives_no_interval_and_says_so(files, tmp_path, capsys):
    """A bootstrap of one sample draws it every time: its interval would be [x, x]."""
    logits, labels = outputs(50, 7)
    np.savez(tmp_path / "one.npz", logits=logits[:1], labels=labels[:1])
    for args in (
        (files["cal"], tmp_path / "one.npz"),
        (files["cal"], files["test"], "--val", tmp_path / "one.npz"),
    ):
        assert analyse(*args, "-o", tmp_path / "out") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "holds 1 sample; intervals need at least two" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--policies", "topk,fastest"], "--policies: unknown 'fastest'"),
        (["--epsilons", "0.1,1.5"], "--epsilons: epsilon 1.5 is not below 1"),
        (["--epsilons", "0.05,0.050"], "--epsilons: epsilons ['0.05'] appear more than once"),
        (["--epsilons", "small"], "--epsilons: 'small' is not a number"),
        (["--histogram-epsilon", "0.5"], "epsilon 0.5 is not among the swept epsilons 0, 0.01"),
        (["--histogram-epsilon", "abc"], "--histogram-epsilon: 'abc' is not a number"),
        (["--tolerance", "-1"], "--tolerance: must be at least 0.0 (got -1.0)"),
        (["--bootstrap", "10"], "--bootstrap: must be at least 100 (got 10)"),
        (["--spikecp-max-set-size", "0"], "--spikecp-max-set-size: must be more than 0 (got '0')"),
        (["--topk-grid", "ten"], "--topk-grid: must be a whole number (got 'ten')"),
        (
            ["--policies", "topk", "--spikecp-max-set-size", "2"],
            "--spikecp-max-set-size: spikecp is not among --policies",
        ),
        (["-o", "cal.npz"], "cal.npz is a file; give a folder"),
        (["-o", "cal.npz/inside"], "-o cal.npz/inside: cannot write there (Not a directory)"),
    ],
)
def test_a_bad_option_is_one_line(args, message, files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert analyse(files["cal"], files["test"], "-o", tmp_path / "out", *args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_the_console_script_answers_without_a_traceback_or_torch(files, tmp_path):
    def run(*args):
        code = (
            "import sys; from spikecut.cli import main; code = main(sys.argv[1:]); "
            "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(code)"
        )
        return subprocess.run(
            [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True
        )

    done = run("analyse", files["cal"], files["test"], "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "spikecut analyse" in done.stderr  # the progress bar
    bad = run("analyse", tmp_path / "none.npz", files["test"], "-o", tmp_path / "out")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    script = shutil.which("spikecut", path=str(Path(sys.executable).parent))
    assert script, "the spikecut console script is not installed; run make install"
    helped = subprocess.run([script, "analyse", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0, helped.stderr
    for needed in ("logits", "CALIB", "--val", "--policies", "--epsilons", "--tolerance",
                   "held-out", "Speed-up at tolerance", "summary.md"):  # fmt: skip
        assert needed in helped.stdout
