"""A keyring backend for the jrnl benchmark: the password comes from the
environment (JRNL_BENCH_PASSWORD), so jrnl never prompts and never touches the
real keyring. Selected with PYTHON_KEYRING_BACKEND=jrnl_keyring.EnvKeyring and
bench/ on PYTHONPATH, only in jrnl's own venv.
"""

import os

from keyring.backend import KeyringBackend


class EnvKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        return os.environ.get("JRNL_BENCH_PASSWORD")

    def set_password(self, service, username, password):
        pass  # the benchmark sets the password through the environment

    def delete_password(self, service, username):
        pass
