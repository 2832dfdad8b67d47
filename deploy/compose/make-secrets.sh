#!/bin/sh
# Writes the compose demo's secrets under deploy/compose/secrets/ (kept out of git and
# out of the image): random values, one file per secret as the hub's secrets_dir
# expects, the emulators' config with the same credentials, and hub.env with the
# ledger's address (PostgreSQL password included) and the WMS callback secret.
# Run it once before `docker compose up`; run it again to rotate every secret.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
rand() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
pg=$(rand); api=$(rand); robot_token=$(rand); robot_secret="SEC$(rand)"; wms=$(rand)
printf '%s' "$pg" > secrets/pg_password
printf '%s' "operator:$api" > secrets/api.token
printf '%s' "$robot_token" > secrets/dingtalk.access_token
printf '%s' "$robot_secret" > secrets/dingtalk.secret
cp emulators.toml secrets/emulators.toml
for channel in tmall jd douyin; do
  app_secret=$(rand); token=$(rand)
  case $channel in
    tmall) shops="tmall-flagship tmall-outlet" ;;
    jd) shops="jd-pop" ;;
    douyin) shops="douyin-live" ;;
  esac
  for shop in $shops; do
    printf '%s' "$app_secret" > "secrets/$shop.app_secret"
    printf '%s' "$token" > "secrets/$shop.access_token"
  done
  cat >> secrets/emulators.toml <<TOML

[marketplaces.credentials.$channel]
app_key = "compose-$channel"
app_secret = "$app_secret"
access_token = "$token"
TOML
done
cat >> secrets/emulators.toml <<TOML

[[dingtalk.robots]]
name = "ops"
access_token = "$robot_token"
secret = "$robot_secret"
TOML
# the WMS signs its status callbacks with its own secret ([wms] is in emulators.toml)
python3 - "$wms" <<'PY'
import sys
path = "secrets/emulators.toml"
text = open(path, encoding="utf-8").read()
text = text.replace("[wms]\n", f'[wms]\ncallback_secret = "{sys.argv[1]}"\n', 1)
open(path, "w", encoding="utf-8").write(text)
PY
cat > secrets/hub.env <<ENV
ORDERHUB_LEDGER=postgresql://orderhub:$pg@postgres:5432/orderhub
ORDERHUB_BACK_OFFICE__WMS_CALLBACK_SECRETS={"main": "$wms"}
ENV
# the containers run as uid 10001 (postgres as its own user): let them read the files
chmod 0444 secrets/*
echo "secrets written to $(pwd)/secrets"
