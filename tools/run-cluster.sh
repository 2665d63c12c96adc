#!/usr/bin/env bash
# Starts a local cluster in the foreground (what `make run` does, after
# `make all`): a private redis-server (unless REDIS_URL is set), one router,
# one media worker per core (pinned, restarted if it dies) and one edge, all
# under vc-supervisor. Ctrl-C stops everything.
#
#   PORT=8080            the edge's HTTP port
#   HTTP_ADDR=127.0.0.1  the edge's listen address (0.0.0.0 to serve others)
#   REDIS_URL=...        use this Redis instead of a private one
#   WORKERS=N            number of workers (default: nproc)
#   ICE_ADDRESSES=a,b    local addresses the workers gather on (default: libnice's)
#   ANNOUNCED_IP=x       address written into the workers' candidates (1:1 NAT)
#   BUILD=build          where the binaries are ($BUILD/bin)
#   RUN_DIR=run          sockets, spec, secret (tests use a temporary one)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/${BUILD:-build}/bin
RUN=$(realpath -m "${RUN_DIR:-$ROOT/run}")
PORT=${PORT:-8080}
HTTP_ADDR=${HTTP_ADDR:-127.0.0.1}
WORKERS=${WORKERS:-$(nproc)}

for b in vc-supervisor vc-router vc-worker vc-edge; do
  if [[ ! -x $BIN/$b ]]; then
    echo "run-cluster: $BIN/$b is missing; run 'make all' first" >&2
    exit 1
  fi
done

mkdir -p "$RUN"
chmod 700 "$RUN"

# The edge signs host links with this secret; keep it across restarts so
# links stay valid.
if [[ ! -s $RUN/jwt-secret ]]; then
  (umask 077; od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' > "$RUN/jwt-secret")
fi
chmod 600 "$RUN/jwt-secret"
# The secret goes in a config file (0600), not on a command line that `ps` shows.
(umask 077; printf 'jwt_secret = %s\n' "$(cat "$RUN/jwt-secret")" > "$RUN/edge.conf")

spec=$RUN/cluster.spec
{
  echo "# written by tools/run-cluster.sh; format in tools/supervisor.c"
  if [[ -z ${REDIS_URL:-} ]]; then
    rm -f "$RUN/redis.sock"
    cat > "$RUN/redis.conf" <<EOF
port 0
unixsocket $RUN/redis.sock
unixsocketperm 700
save ""
appendonly no
dir $RUN
daemonize no
EOF
    REDIS=unix:$RUN/redis.sock
    echo "redis once $(command -v redis-server) $RUN/redis.conf"
  else
    REDIS=$REDIS_URL
  fi
  echo "router restart $BIN/vc-router --listen ipc://$RUN/router.ipc --redis-url $REDIS"
  extra=()
  [[ -n ${ICE_ADDRESSES:-} ]] && extra+=(--ice-addresses "$ICE_ADDRESSES")
  [[ -n ${ANNOUNCED_IP:-} ]] && extra+=(--announced-ip "$ANNOUNCED_IP")
  ncpu=$(nproc)
  for ((i = 0; i < WORKERS; i++)); do
    echo "worker-$i restart $BIN/vc-worker --id w$i --cpu $((i % ncpu))" \
         "--control-url ipc://$RUN/worker-$i.ipc --redis-url $REDIS" "${extra[@]+"${extra[@]}"}"
  done
  echo "edge-1 restart $BIN/vc-edge --config $RUN/edge.conf --id edge-1" \
       "--http-addr $HTTP_ADDR --http-port $PORT --router-url ipc://$RUN/router.ipc" \
       "--events-url ipc://$RUN/edge-1.ipc --ui-dir $ROOT/ui/dist"
} > "$spec"

host=$HTTP_ADDR
[[ $host == 127.0.0.1 || $host == 0.0.0.0 ]] && host=localhost
echo "run-cluster: $WORKERS workers, spec in $spec, logs on this terminal"
echo "run-cluster: meetings at http://$host:$PORT/  (Ctrl-C stops everything)"
exec "$BIN/vc-supervisor" "$spec"
