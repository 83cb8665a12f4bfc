#!/usr/bin/env bash
# Build the sqlcipher3 driver from its sdist against the system OpenSSL, with
# SQLITE_TEMP_STORE=3 so temporary tables/indices never spill plaintext to
# disk, install it into the active virtualenv, and verify the result.
#
# Env: SQLCIPHER3_VERSION (default 0.6.4)  sdist version to build
#      DIARY_NO_APT=1                      never run apt-get; just say what is missing
#      DIARY_ALLOW_SYSTEM_PYTHON=1         allow running without an active virtualenv
# CI:  python3 -m venv "$tmp/v" && . "$tmp/v/bin/activate" && bash build_sqlcipher.sh
set -euo pipefail

VERSION="${SQLCIPHER3_VERSION:-0.6.4}"
die() { echo "build_sqlcipher.sh: error: $*" >&2; exit 1; }
say() { echo "build_sqlcipher.sh: $*"; }

# --- 1. Which Python: the active venv's, never the system's by accident. ---
if [[ -n "${VIRTUAL_ENV:-}" ]]; then
  PY="$VIRTUAL_ENV/bin/python"
  [[ -x "$PY" ]] || die "VIRTUAL_ENV=$VIRTUAL_ENV has no bin/python (stale venv?)"
  # VIRTUAL_ENV is just a variable; make sure it names a real venv.
  "$PY" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' || die "$PY is not in a virtualenv"
elif [[ "${DIARY_ALLOW_SYSTEM_PYTHON:-0}" == 1 ]]; then
  PY="$(command -v python3 || command -v python)" || die "no python3 found"
else
  die "no virtualenv is active; activate one first (or set DIARY_ALLOW_SYSTEM_PYTHON=1)"
fi
say "python: $PY ($("$PY" -c 'import platform; print(platform.python_version())'))"

# --- 2. Build prerequisites: C compiler, OpenSSL headers, Python headers. ---
missing_pkgs() {
  local pkgs=()
  command -v gcc >/dev/null || pkgs+=(build-essential)
  [[ -f /usr/include/openssl/crypto.h ]] || pkgs+=(libssl-dev)
  "$PY" -c 'import os, sys, sysconfig
sys.exit(not os.path.isfile(os.path.join(sysconfig.get_path("include"), "Python.h")))' \
    || pkgs+=(python3-dev)
  echo "${pkgs[*]:-}"
}
pkgs="$(missing_pkgs)"
if [[ -n "$pkgs" ]]; then
  if [[ "$(id -u)" == 0 ]]; then SUDO=""
  elif command -v sudo >/dev/null; then SUDO="sudo"
  else SUDO="-"; fi  # "-": not permitted to install
  if [[ "${DIARY_NO_APT:-0}" == 1 || "$SUDO" == "-" ]] || ! command -v apt-get >/dev/null; then
    die "missing build prerequisites; install: $pkgs (Debian/Ubuntu: apt-get install $pkgs)"
  fi
  say "installing missing Debian packages: $pkgs"
  # shellcheck disable=SC2086  # $pkgs is a deliberate word list
  { $SUDO apt-get update -qq &&
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs; } \
    || die "apt-get install $pkgs failed"
  pkgs="$(missing_pkgs)"
  # python3-dev only provides headers for Debian's own python, not e.g. pyenv builds.
  [[ -z "$pkgs" ]] || die "still missing after apt-get: $pkgs (headers for $PY?)"
fi

# --- 3. Build tooling. We build without isolation, so the venv must supply
# setuptools+wheel itself; conan must NOT be importable, because setup.py then
# downloads and links its own OpenSSL instead of the system libcrypto. ---
"$PY" -c 'import setuptools, wheel' 2>/dev/null \
  || "$PY" -m pip install --quiet setuptools wheel \
  || die "could not install setuptools/wheel into $PY"
if "$PY" -c 'import conan' 2>/dev/null; then
  die "conan is importable in this environment; setup.py would fetch its own OpenSSL. Use a venv without conan."
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/build_sqlcipher.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- 4. Fetch and patch the sdist. setup.py hard-codes SQLITE_TEMP_STORE=2 in
# define_macros, which gcc places AFTER $CFLAGS, so CFLAGS=-DSQLITE_TEMP_STORE=3
# is silently overridden (checked: module reports TEMP_STORE=2). Edit the macro. ---
# (--no-build-isolation: otherwise pip installs conan just to read the metadata.)
say "downloading sqlcipher3==$VERSION sdist"
"$PY" -m pip download --quiet --no-deps --no-build-isolation --no-binary sqlcipher3 \
  "sqlcipher3==$VERSION" -d "$work/dl" >"$work/download.log" 2>&1 \
  || { tail -n 20 "$work/download.log" >&2; die "pip download of sqlcipher3==$VERSION failed"; }
tar -xzf "$work"/dl/sqlcipher3-*.tar.gz -C "$work"
src="$(echo "$work"/sqlcipher3-*/)"
[[ -f "$src/setup.py" ]] || die "unexpected sdist layout: no setup.py"
sed -i -E "s/\('SQLITE_TEMP_STORE', *'[0-9]'\)/('SQLITE_TEMP_STORE', '3')/" "$src/setup.py"
grep -q "('SQLITE_TEMP_STORE', '3')" "$src/setup.py" \
  || die "could not set SQLITE_TEMP_STORE=3 in setup.py (its layout changed; update this script)"

# --- 5. Build (compiles the vendored amalgamation: ~1-2 minutes) and install.
# --no-cache-dir so pip never hands back a previously built, unpatched wheel. ---
say "building wheel (takes a minute or two)"
start=$SECONDS
"$PY" -m pip wheel --no-deps --no-build-isolation --no-cache-dir -w "$work/wheel" "$src" \
  >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; die "wheel build failed"; }
say "built in $((SECONDS - start))s"
"$PY" -m pip install --quiet --force-reinstall --no-deps "$work"/wheel/sqlcipher3-*.whl \
  || die "installing the built wheel failed"

# --- 6. Verify the installed module (-I and cd: never import the sdist tree). ---
cd "$work"
"$PY" -I - <<'EOF' || exit 1
import os, sys, tempfile
from importlib.metadata import version
import sqlcipher3

def fail(msg):
    sys.exit(f"build_sqlcipher.sh: verify failed: {msg}")

c = sqlcipher3.connect(":memory:")
cipher = c.execute("PRAGMA cipher_version").fetchone()[0]
if not cipher.startswith("4."):
    fail(f"cipher_version is {cipher!r}, want SQLCipher 4.x")
opts = {r[0] for r in c.execute("PRAGMA compile_options")}
for want in {"TEMP_STORE=3", "ENABLE_FTS5"} - opts:
    fail(f"{want} missing from PRAGMA compile_options")
c.execute("CREATE VIRTUAL TABLE f USING fts5(body)")
c.execute("INSERT INTO f VALUES ('hello encrypted world')")
if c.execute("SELECT count(*) FROM f WHERE f MATCH 'encrypted'").fetchone()[0] != 1:
    fail("FTS5 query returned the wrong result")

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "t.db")
    db = sqlcipher3.connect(path)
    db.execute("PRAGMA key='x'")
    db.execute("CREATE TABLE t(a)")
    db.execute("INSERT INTO t VALUES ('secret')")
    db.commit()
    provider = db.execute("PRAGMA cipher_provider_version").fetchone()[0]
    db.close()
    head = open(path, "rb").read(16)
    if len(head) < 16 or head == b"SQLite format 3\x00":
        fail("database file is not encrypted (plain SQLite header)")

print(f"build_sqlcipher.sh: OK: sqlcipher3 {version('sqlcipher3')} | SQLCipher {cipher} "
      f"| SQLite {sqlcipher3.sqlite_version} | {provider} | TEMP_STORE=3, FTS5")
EOF
