#!/usr/bin/env bash
# The main job. Until the local demo lands (issue 9) this shows what the CLI can do.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./tapline --help
