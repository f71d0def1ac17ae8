"""Config files read with their mistakes located: file, line and column.

Snakemake reads every ``--configfile`` itself, before the Snakefile runs, and says only
"Config file is not valid JSON or YAML" for a broken one. The Snakefile reads the
default config through :func:`read_config` first, and ``make run`` checks the config
files of its command line with this module, so both name the place:

    python -m spikecut.settings.files [SNAKEMAKE ARGS ...]

It also tells ``make run`` where a run's results go, for the report and the last line:

    python -m spikecut.settings.files --results-root config/config.yaml [SNAKEMAKE ARGS ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from spikecut.settings.base import ConfigError


def read_config(path: str | Path) -> dict:
    """The YAML (or JSON) file ``path`` as a dict, or a :class:`ConfigError` naming the
    file, and the line and column of what is wrong in it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        hint = (
            ""
            if Path(path).suffix in (".yaml", ".yml", ".json")
            else "; Snakemake reads every word after --configfile as a config file, so "
            "name targets before it"
        )
        raise ConfigError([f"config file {path}: cannot be read ({err.strerror}){hint}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        what = "; ".join(p for p in (err.context, err.problem) if p)
        raise ConfigError(
            [f"config file {path}, line {mark.line + 1}, column {mark.column + 1}: {what}"]
        ) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"config file {path}: {err}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"config file {path}: its top level must be keys and their values"])
    return data


# Snakemake's spellings of the options read here
_SPELLINGS = {"--configfile": {"--configfile", "--configfiles"}, "--config": {"--config", "-C"}}


def _options(argv: list[str], option: str) -> list[str]:
    """The words that follow ``option`` up to the next option, each time it appears."""
    words, taking = [], False
    for word in argv:
        if word.startswith("-"):
            name, _, value = word.partition("=")
            taking = name in _SPELLINGS[option]
            if taking and value:
                words.append(value)
                taking = False
        elif taking:
            words.append(word)
    return words


def configfiles(argv: list[str]) -> list[str]:
    """The config files a Snakemake command line names: every word after
    ``--configfile`` (or ``--configfiles``) up to the next option, as Snakemake reads
    them."""
    return _options(argv, "--configfile")


def results_root(argv: list[str], default_config: str | Path) -> str:
    """Where the run of Snakemake's arguments ``argv`` writes: ``results`` as its last
    ``--config results=...`` sets it, else as the last of its config files that sets it
    (they replace ``default_config``, the workflow's own), else the default."""
    for word in reversed(_options(argv, "--config")):
        key, _, value = word.partition("=")
        if key == "results":
            return str(yaml.safe_load(value))
    for path in reversed(configfiles(argv) or [default_config]):
        config = read_config(path)
        if "results" in config:
            return str(config["results"])
    from spikecut.settings.workflow import Settings

    return Settings.model_fields["results"].default


def main(argv: list[str]) -> int:
    """Check every config file ``argv`` names; 0 if all read, else 1 with the places.
    ``--results-root DEFAULT_CONFIG ARGS...`` prints where the run of ARGS writes."""
    try:
        if argv[:1] == ["--results-root"]:
            print(results_root(argv[2:], argv[1]))
            return 0
        for path in configfiles(argv):
            read_config(path)
    except ConfigError as err:
        print("\n".join(err.lines), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
