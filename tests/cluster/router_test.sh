#!/usr/bin/env bash
# Router cluster test: a private redis-server, two vc-routers on ipc://
# sockets and fake workers written straight into Redis (the heartbeat's
# shape), driven with vc-ctl. Waits on readiness lines, never fixed sleeps.
# Prints "router: N passed, M failed"; exits non-zero on failure.
#   BUILD=build-san   take binaries from build-san/bin (default build/bin)
set -u
cd "$(dirname "$0")/../.."
export PATH="/usr/sbin:/sbin:$PATH"
BIN=${BUILD:-build}/bin
CTL=$BIN/vc-ctl
pass=0; fail=0
dir=$(mktemp -d /tmp/vc-router-test.XXXXXX)
sock=$dir/r.sock
redis_pid=""; r1_pid=""; r2_pid=""

cleanup() {
  for p in $r1_pid $r2_pid $redis_pid; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() { # check NAME CMD... : one test case
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - router/$name"
  else fail=$((fail + 1)); echo "not ok - router/$name"; fi
}

# wait_until SECONDS CMD...: polls CMD every 50 ms until it succeeds.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

rcli() { redis-cli -s "$sock" "$@"; }

start_redis() {
  redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save '' --appendonly no \
    --dir "$dir" > "$dir/redis.log" 2>&1 &
  redis_pid=$!
  wait_until 10 bash -c "[ \"\$(redis-cli -s '$sock' ping 2>/dev/null)\" = PONG ]"
}

start_router() { # start_router N -> sets rN_pid, socket ipc://$dir/rN.ipc
  "$BIN/vc-router" --listen "ipc://$dir/r$1.ipc" --redis-url "unix:$sock" --region local \
    2> "$dir/r$1.log" &
  eval "r$1_pid=$!"
  wait_until 10 grep -q ' ready' "$dir/r$1.log"
}

fake_worker() { # fake_worker ID LOAD: what a heartbeat writes
  rcli hset "vc:worker:$1" url "ipc://$dir/$1.ipc" region local host test load "$2" pid 1 >/dev/null &&
    rcli expire "vc:worker:$1" 600 >/dev/null && rcli zadd vc:workers:local "$2" "$1" >/dev/null
}

req() { "$CTL" req "ipc://$dir/r$1.ipc" "$2"; } # req ROUTER JSON
field() { jq -r ".$1" 2>/dev/null; }             # field NAME < reply
is_code() { [ "$(echo "$1" | field code)" = "$2" ] && [ "$(echo "$1" | field v)" = 1 ]; }
create() { req "$1" '{"type":"room_create"}' | field room; }
place() { req "$1" "{\"type\":\"room_place\",\"room\":\"$2\"}"; }
worker_of() { place "$1" "$2" | field worker; }

if [ ! -x "$BIN/vc-router" ] || [ ! -x "$CTL" ]; then
  echo "not ok - router/binaries ($BIN/vc-router, $CTL missing)"
  echo "router: 0 passed, 1 failed"; exit 1
fi

check redis_starts start_redis
check router1_ready start_router 1
check router2_ready start_router 2
check fake_workers bash -c "$(declare -f rcli fake_worker); sock='$sock' dir='$dir'; fake_worker wa 0 && fake_worker wb 0"

# Config errors are startup errors.
"$BIN/vc-router" --listen "ipc://$dir/x.ipc" --redis-url "unix:$sock" --colour blue 2> "$dir/bad.log"
check unknown_key_exit_2 bash -c "[ $? -eq 2 ] && grep -q colour '$dir/bad.log'"
"$BIN/vc-router" --listen "ipc://$dir/x.ipc" --redis-url "nope" 2>/dev/null
check bad_redis_url_exit_2 [ $? -eq 2 ]

# Rooms.
out=$(req 1 '{"type":"room_create"}')
room_a=$(echo "$out" | field room)
check create_default_lobby bash -c "[[ '$room_a' =~ ^[a-z]{3}-[a-z]{4}-[a-z]{3}\$ ]] && [ \"\$(echo '$out' | jq -r '.lobby, .v, .type' | paste -sd,)\" = true,1,room_created ]"
ttl=$(rcli ttl "vc:room:$room_a")
check create_ttl_24h [ "$ttl" -gt 86000 ] 2>/dev/null
check create_fields [ "$(rcli hget "vc:room:$room_a" region)" = local ]
out=$(req 2 '{"type":"room_create","lobby":false}')
room_b=$(echo "$out" | field room)
check create_lobby_false [ "$(echo "$out" | field lobby)" = false ]
out=$(req 1 "{\"type\":\"room_get\",\"room\":\"$room_b\"}")
check get_other_router bash -c "[ \"\$(echo '$out' | jq -r '.type, .lobby' | paste -sd,)\" = room_info,false ]"

# Placement.
wa=$(worker_of 1 "$room_a"); wb=$(worker_of 1 "$room_b")
check place_two_rooms_differ bash -c "[ -n '$wa' ] && [ -n '$wb' ] && [ '$wa' != null ] && [ '$wa' != '$wb' ]"
out=$(place 2 "$room_a")
check place_same_room_other_router bash -c "[ \"\$(echo '$out' | jq -r '.worker, .worker_url' | paste -sd,)\" = '$wa,ipc://$dir/$wa.ipc' ]"
check worker_rooms_recorded bash -c "[ \"\$(redis-cli -s '$sock' sismember 'vc:worker_rooms:$wa' '$room_a')\" = 1 ]"

room_c=$(create 2)
for i in $(seq 1 40); do
  place $((i % 2 + 1)) "$room_c" > "$dir/c.$i" &
done
wait $(jobs -p | grep -v -e "^${r1_pid}\$" -e "^${r2_pid}\$" -e "^${redis_pid}\$") 2>/dev/null
answers=$(cat "$dir"/c.* | jq -r '.type + ":" + (.worker // "-")' | sort | uniq -c)
check concurrent_placements_agree bash -c "[ \$(cat '$dir'/c.* | wc -l) -eq 40 ] && [ \$(echo '$answers' | wc -l) -eq 1 ] && echo '$answers' | grep -q room_placed"

check other_region_no_worker is_code "$(req 1 "{\"type\":\"room_place\",\"room\":\"$(create 2)\",\"region\":\"mars\"}")" 5002

# Scripts run by hash once loaded, and fall back to EVAL after a SCRIPT FLUSH.
check evalsha_used bash -c "redis-cli -s '$sock' info commandstats | grep -q '^cmdstat_evalsha:calls=[1-9]'"
rcli script flush > /dev/null
check noscript_fallback_place [ "$(worker_of 2 "$room_b")" = "$wb" ]
check noscript_fallback_create [ "$(req 2 '{"type":"room_create"}' | field type)" = room_created ]

# vc-ctl's exit status: 0 for a reply, 1 for an error reply or no reply.
"$CTL" req "ipc://$dir/r1.ipc" '{"type":"room_create"}' > /dev/null
check ctl_exit_0_on_reply [ $? -eq 0 ]
"$CTL" req "ipc://$dir/r1.ipc" '{"type":"nope"}' > /dev/null
check ctl_exit_1_on_error [ $? -eq 1 ]
"$CTL" req "ipc://$dir/none.ipc" '{"type":"room_create"}' > /dev/null 2>&1
check ctl_exit_1_on_timeout [ $? -eq 1 ]

# Errors, and the routers keep serving.
check unknown_room_place is_code "$(place 1 no-such-room)" 2000
check unknown_room_get is_code "$(req 2 '{"type":"room_get","room":"no-such-room"}')" 2000
check invalid_json is_code "$(req 1 '{"type":')" 1000
check unknown_type is_code "$(req 1 '{"type":"room_delete"}')" 1002
check bad_field is_code "$(req 2 '{"type":"room_place","room":"a b"}')" 1001
check bad_version is_code "$(req 2 '{"v":9,"type":"room_create"}')" 1004
check still_serving [ "$(worker_of 1 "$room_a")" = "$wa" ]

# A worker dies: its rooms are lost, it is never chosen again.
rcli del "vc:worker:$wa" > /dev/null
check dead_worker_room_lost is_code "$(place 1 "$room_a")" 2001
check dead_worker_room_lost_r2 is_code "$(place 2 "$room_a")" 2001
check lost_rooms_logged_once bash -c "[ \$(grep -c 'worker $wa is gone' '$dir/r1.log') -eq 1 ] && grep 'worker $wa is gone' '$dir/r1.log' | grep -q '$room_a'"
fake_worker wc 5
ok=1
for i in 1 2 3 4; do
  w=$(worker_of $((i % 2 + 1)) "$(create 1)")
  { [ "$w" = "$wa" ] || [ "$w" = null ] || [ -z "$w" ]; } && ok=0
done
check dead_worker_never_chosen [ $ok -eq 1 ]
check dead_worker_left_zset [ -z "$(rcli zscore vc:workers:local "$wa")" ]

# No live worker.
rcli del "vc:worker:$wb" vc:worker:wc > /dev/null
check no_worker is_code "$(place 2 "$(create 2)")" 5002

# Redis goes away and comes back.
kill "$redis_pid"; wait "$redis_pid" 2>/dev/null; redis_pid=""
check redis_down_unavailable is_code "$(req 1 '{"type":"room_create"}')" 5001
check redis_restart start_redis
check router_reconnects wait_until 10 grep -q 'connected again' "$dir/r1.log"
check works_after_reconnect [ "$(req 1 '{"type":"room_create"}' | field type)" = room_created ]

# Clean shutdown (and, under SAN=1, no sanitizer report).
kill -TERM "$r1_pid"; wait "$r1_pid"; rc1=$?; r1_pid=""
kill -INT "$r2_pid"; wait "$r2_pid"; rc2=$?; r2_pid=""
check clean_exit bash -c "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]"
check no_sanitizer_reports bash -c "! grep -qE 'Sanitizer|runtime error' '$dir'/r1.log '$dir'/r2.log"

if [ $fail -ne 0 ]; then
  for f in "$dir"/r1.log "$dir"/r2.log; do echo "--- $f"; tail -30 "$f"; done
fi
echo "router: $pass passed, $fail failed"
[ $fail -eq 0 ]
