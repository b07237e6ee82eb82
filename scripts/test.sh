#!/usr/bin/env bash
# Installs quantx with its test dependencies, then runs every test: Python (with line
# coverage, failing below 85% for python/) and Rust. This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e '.[test]'
python -m pytest --cov=python --cov-report=term --cov-fail-under=85 "$@"
cargo test --quiet
