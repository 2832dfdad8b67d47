#!/bin/sh
# The compose demo's hub: it waits for the emulators' business clock (they print it as
# JSON when they start), runs on the same clock, and joins the Ray cluster through the
# Ray Client. `exec`: tini (PID 1) passes SIGTERM straight to `orderhub run`.
set -eu
while [ ! -s /demo/emulators.json ]; do sleep 1; done
eval "$(python - <<'PY'
import json
with open("/demo/emulators.json", encoding="utf-8") as f:
    clock = json.load(f)["clock"]
for key, value in clock.items():
    print(f"export ORDERHUB_CLOCK__{key.upper()}='{value}'")
PY
)"
exec orderhub run --config /etc/orderhub/hub.toml --ray-address "${HUB_RAY_ADDRESS}"
