#!/usr/bin/env bash
# `npm run demo`: the nightly story on the lab, from a fresh clone. Installs what is missing
# (the lab's packages, node modules), brings the lab up if needed, then plays the story.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash test/lab/lab.sh install
[ -d node_modules/tsx ] || npm ci --no-audit --no-fund
bash test/lab/lab.sh status >/dev/null 2>&1 || bash test/lab/lab.sh up
exec node_modules/.bin/tsx test/demo/nightly.ts
