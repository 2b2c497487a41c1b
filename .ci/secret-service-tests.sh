#!/bin/sh
# Run the real Secret Service tests (tests/test_secret_service.py) inside a private D-Bus session
# with a throwaway gnome-keyring, unlocked with a dummy password on stdin (no display needed).
# Needs: dbus-run-session (dbus-user-session) and gnome-keyring-daemon
#   (apt-get install -y --no-install-recommends gnome-keyring). Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."

for tool in dbus-run-session gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "secret-service-tests: $tool not found;" \
            "apt-get install -y --no-install-recommends gnome-keyring dbus-user-session" >&2
        exit 2
    fi
done

python=${PYTHON:-python3}
[ -x .venv/bin/python ] && python=.venv/bin/python

# A fresh data dir per run: login.keyring is created there with the dummy password, so a rerun
# never meets a keyring locked with another password, and the user's own keyrings are untouched.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir -p "$scratch/data" "$scratch/runtime"
chmod 700 "$scratch/runtime"
export XDG_DATA_HOME="$scratch/data"
export XDG_RUNTIME_DIR="$scratch/runtime"
# An inherited backend choice would bypass the Secret Service (an empty one breaks keyring).
unset PYTHON_KEYRING_BACKEND || true
tests=tests/test_secret_service.py

# 1. Unlocked keyring: round trips, login/profiles/logout. The daemon lives on the private bus
#    and dies with it when the session ends.
ROAMTUI_TEST_SECRET_SERVICE=1 dbus-run-session -- sh -c '
    printf %s roamtui-ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$0" -m pytest -q -p no:cacheprovider -m secret_service "$@"
' "$python" "$tests" "$@"

# 2. A daemon that was never unlocked and cannot show its prompt (no display): the
#    "prompt dismissed" failure must come back fast as one clear message.
rm -rf "$XDG_DATA_HOME" && mkdir -p "$XDG_DATA_HOME"
ROAMTUI_TEST_SECRET_SERVICE=prompt dbus-run-session -- sh -c '
    gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
    exec "$0" -m pytest -q -p no:cacheprovider -m secret_service "$@"
' "$python" "$tests" "$@"
