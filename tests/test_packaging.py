"""What `pip install .` (not editable) puts on a user's machine."""

import os
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_package_of_the_source_is_installed():
    # setuptools installs only the packages listed: one left out works in the
    # editable install every test runs under, and is missing for a user
    # (diary.search was: `diary search` failed with an ImportError).
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    found = {os.path.relpath(d, ROOT).replace(os.sep, ".")
             for d, _, names in os.walk(os.path.join(ROOT, "diary"))
             if "__init__.py" in names}
    assert found - listed == set()
