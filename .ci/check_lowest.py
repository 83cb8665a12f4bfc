"""Check that a constraints file pins prompt_toolkit, rich, peewee, shtab and PyYAML at exactly
the lower bounds pyproject.toml gives them (run by .ci/run; Python 3.11+).

    python3 .ci/check_lowest.py .ci/lowest-constraints.txt
"""

import re
import sys
import tomllib

WANTED = {"prompt-toolkit", "rich", "peewee", "shtab", "pyyaml", "cryptography"}


def name(text):
    return re.sub(r"[-_.]+", "-", text.strip().lower())


def version(text):
    return re.sub(r"(\.0)+$", "", text.strip())


def main(path):
    with open("pyproject.toml", "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    bounds = {}
    for dep in dependencies:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", dep)
        if m:
            bounds[name(m.group(1))] = version(m.group(2))
    pins = {}
    with open(path) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                package, _, pinned = line.partition("==")
                pins[name(package)] = version(pinned)
    wrong = sorted(n for n in WANTED | set(pins)
                   if n not in WANTED or pins.get(n) is None or pins[n] != bounds.get(n))
    if wrong:
        sys.exit("%s: pin exactly pyproject.toml's lower bounds of %s (wrong: %s)"
                 % (path, ", ".join(sorted(WANTED)), ", ".join(wrong)))


if __name__ == "__main__":
    main(sys.argv[1])
