#!/usr/bin/env bash
# Starts and stops the local AWS emulators used by the tests, bound to 127.0.0.1 only.
#   MiniStack  on 127.0.0.1:${MINISTACK_PORT:-4566}  (DynamoDB + Streams, S3, SES v2, Scheduler, Step Functions, KMS, Lambda, API Gateway)
#   moto       on 127.0.0.1:${MOTO_PORT:-5055}       (S3 per-version Object Lock)
#   moto-mail  on 127.0.0.1:${MOTO_MAIL_PORT:-5056}  (SES raw MIME read-back, kept apart so its state dump stays small)
# Usage: scripts/emulators.sh up|down|status|reset, or stop|start NAME for one of them (the
# end-to-end test stops the mail moto to show a provider outage, then starts it again).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.cache/emulators"
venv="$root/.cache/venv"
ministack_port=${MINISTACK_PORT:-4566}
moto_port=${MOTO_PORT:-5055}
moto_mail_port=${MOTO_MAIL_PORT:-5056}
mkdir -p "$state"

ensure_venv() {
  local stamp="$venv/.requirements"
  if [ -x "$venv/bin/python" ] && cmp -s "$root/scripts/emulator-requirements.txt" "$stamp"; then
    return
  fi
  echo "emulators: installing pinned emulators into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/emulator-requirements.txt"
  cp "$root/scripts/emulator-requirements.txt" "$stamp"
}

wait_for() { # name url seconds
  local name=$1 url=$2 deadline=$((SECONDS + $3))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "emulators: $name did not become healthy at $url; log follows" >&2
      tail -n 40 "$state/$name.log" >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

start_ministack() {
  running ministack && return
  # The emulator must not hold this script's stdout: callers read it with $(...).
  (cd "$state" && BIND_HOST=127.0.0.1 GATEWAY_PORT=$ministack_port MINISTACK_HOST=127.0.0.1 \
    S3_DATA_DIR="$state/ministack-s3" LOG_LEVEL=WARNING IOT_MTLS_ENABLED=0 SFTP_ENABLED=0 \
    exec setsid "$venv/bin/ministack") </dev/null >"$state/ministack.log" 2>&1 &
  echo $! >"$state/ministack.pid"
  wait_for ministack "http://127.0.0.1:$ministack_port/_ministack/health" 60
}

start_moto() { # name port
  local name=$1 port=$2
  running "$name" && return
  (cd "$state" && exec setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port") \
    </dev/null >"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
  wait_for "$name" "http://127.0.0.1:$port/moto-api/" 60
}

stop() {
  local name=$1 pid deadline=$((SECONDS + 10))
  if running "$name"; then
    pid=$(cat "$state/$name.pid")
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    # Gone before returning, so a start right after binds the port again.
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  fi
  rm -f "$state/$name.pid"
}

one() { # stop|start NAME
  local port
  case "${2:-}" in
    ministack) ;;
    moto) port=$moto_port ;;
    moto-mail) port=$moto_mail_port ;;
    *) echo "usage: $0 $1 ministack|moto|moto-mail" >&2; exit 2 ;;
  esac
  if [ "$1" = stop ]; then
    stop "$2"
  elif [ "$2" = ministack ]; then
    ensure_venv; start_ministack
  else
    ensure_venv; start_moto "$2" "$port"
  fi
}

case "${1:-}" in
  up)
    ensure_venv
    start_ministack
    start_moto moto "$moto_port"
    start_moto moto-mail "$moto_mail_port"
    echo "AISPM_MINISTACK_ENDPOINT=http://127.0.0.1:$ministack_port"
    echo "AISPM_MOTO_ENDPOINT=http://127.0.0.1:$moto_port"
    echo "AISPM_MOTO_MAIL_ENDPOINT=http://127.0.0.1:$moto_mail_port"
    ;;
  down) stop ministack; stop moto; stop moto-mail ;;
  stop | start) one "$@" ;;
  status)
    for n in ministack moto moto-mail; do running $n && echo "$n: running" || echo "$n: stopped"; done ;;
  reset)
    curl -fsS -X POST "http://127.0.0.1:$ministack_port/_ministack/reset" >/dev/null
    curl -fsS -X POST "http://127.0.0.1:$moto_port/moto-api/reset" >/dev/null
    curl -fsS -X POST "http://127.0.0.1:$moto_mail_port/moto-api/reset" >/dev/null ;;
  *) echo "usage: $0 up|down|status|reset|stop NAME|start NAME" >&2; exit 2 ;;
esac
