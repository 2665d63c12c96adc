#!/usr/bin/env bash
# Tests ansible/: lint, syntax check, then a real apply of site.yml against
# localhost (connection local) with every install path redirected into a
# temporary directory and packages/users/systemd switched off. It checks the
# rendered units and configs (one worker instance per configured core, each
# with its own --cpu, control port and UDP range), check mode, idempotence and
# scaling down; then it starts redis-server, the router, the workers and the
# edge exactly as the rendered units' ExecStart lines say and checks they
# serve (/healthz over TLS, workers registered in Redis).
# Prints "ok - ..." / "not ok - ..." lines and "ansible: N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
export PATH="/usr/sbin:/sbin:$PATH"
export ANSIBLE_CONFIG=$ROOT/ansible/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
TMP=$(mktemp -d /tmp/vc-ansible.XXXXXX)
export ANSIBLE_CACHE_PLUGIN_CONNECTION=$TMP/facts  # keep ansible/.facts clean
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { # check NAME CMD...
  local name=$1; shift
  if "$@" >"$TMP/check.log" 2>&1; then ok "$name"; else nok "$name"; sed 's/^/    /' "$TMP/check.log" | tail -30; fi
}
finish() {
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null; done
  [[ -n ${KEEP:-} ]] || rm -rf "$TMP"
}
PIDS=()
trap finish EXIT

if ! command -v ansible-playbook >/dev/null || ! command -v ansible-lint >/dev/null; then
  echo "installing ansible and ansible-lint"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ansible ansible-lint >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ansible ansible-lint >/dev/null; }
fi
if [[ ! -x build/bin/vc-worker || ! -x build/bin/vc-edge || ! -x build/bin/vc-router || ! -x build/bin/vc-ctl ]]; then
  make -j2 all >"$TMP/make.log" 2>&1 || { tail -30 "$TMP/make.log"; }
fi
[[ -f ui/dist/index.html ]] || make ui >"$TMP/make-ui.log" 2>&1 || true

# --- lint and syntax -------------------------------------------------------
check "ansible-lint --offline ansible/" ansible-lint --offline ansible/
check "syntax check (bare-metal inventory)" \
  ansible-playbook --syntax-check -i ansible/inventories/baremetal/hosts.yml ansible/site.yml
check "bare-metal inventory: regions and roles" bash -c '
  g=$(ansible-inventory -i ansible/inventories/baremetal/hosts.yml --graph)
  for x in vc_cluster region_eu region_us vc_redis vc_routers vc_workers vc_edges vc_turn; do
    grep -q "@$x:" <<<"$g" || { echo "no group $x"; exit 1; }; done'
cat >"$TMP/inv.yml" <<EOF
- name: Regions and router choice in the bare-metal example
  hosts: vc_cluster
  gather_facts: false
  tasks:
    - name: Load the edge role's defaults
      ansible.builtin.include_vars: $ROOT/ansible/roles/edge/defaults/main.yml
    - name: Check
      ansible.builtin.assert:
        that:
          - vc_region == ('us' if inventory_hostname is search('-us') else 'eu')
          - vc_edge_router_host == ('edge-us1' if vc_region == 'us' else 'edge-eu1')
EOF
check "bare-metal inventory: region vars, each host's router is in its region" \
  ansible-playbook -i ansible/inventories/baremetal/hosts.yml "$TMP/inv.yml"

# --- render test ------------------------------------------------------------
cat >"$TMP/hosts.yml" <<EOF
all:
  children:
    vc_cluster:
      children:
        region_test:
          hosts:
            testhost:
              ansible_connection: local
              ansible_python_interpreter: /usr/bin/python3
    vc_redis: {hosts: {testhost: }}
    vc_routers: {hosts: {testhost: }}
    vc_workers: {hosts: {testhost: }}
    vc_edges: {hosts: {testhost: }}
    vc_turn: {hosts: {testhost: }}
EOF
mkdir -p "$TMP/group_vars"
echo "vc_region: test" >"$TMP/group_vars/region_test.yml"
D=$TMP/root
cat >"$TMP/vars.yml" <<EOF
vc_prefix: $D/opt/vc
vc_config_dir: $D/etc/vc
vc_tls_dir: $D/etc/vc/tls
vc_systemd_dir: $D/etc/systemd/system
vc_sysctl_dir: $D/etc/sysctl.d
vc_tmpfiles_dir: $D/etc/tmpfiles.d
vc_haltpoll_param: $D/sys/guest_halt_poll_ns
vc_redis_conf: $D/etc/redis/redis.conf
vc_coturn_conf: $D/etc/turnserver.conf
vc_nftables_conf: $D/etc/nftables.conf
vc_install_packages: false
vc_manage_user: false
vc_manage_services: false
vc_user: root
vc_group: root
vc_private_ip: 127.0.0.1
vc_worker_ice_addresses: 127.0.0.1
vc_public_host: meet.test.example
ansible_processor_vcpus: 4
vc_worker_count: 3
vc_worker_first_cpu: 1
vc_ice_port_min: 41000
vc_ice_port_max: 41299
vc_redis_port: 26379
vc_router_port: 27100
vc_worker_control_port_base: 27200
vc_edge_events_port: 27300
vc_edge_port: 27443
vault_vc_jwt_secret: "$(printf 'j%.0s' {1..64})"
vault_vc_turn_secret: "$(printf 't%.0s' {1..64})"
vc_firewall_manage: true
EOF
mkdir -p "$D/etc/redis" "$D/etc/sysctl.d" "$D/etc/tmpfiles.d" "$D/sys" # exist on a Debian host
echo 0 >"$D/sys/guest_halt_poll_ns" # a KVM guest's haltpoll governor, polling off
echo 50000 >"$D/sys/guest_halt_poll_grow_start"
play() { (cd ansible && ansible-playbook -i "$TMP/hosts.yml" site.yml -e @"$TMP/vars.yml" "$@"); }

check "check mode (--check --diff) on a fresh host" bash -c "$(declare -f play); TMP=$TMP; play --check --diff"
if play --diff >"$TMP/apply1.log" 2>&1; then ok "apply"; else nok "apply"; tail -40 "$TMP/apply1.log"; fi
C=$D/etc/vc U=$D/etc/systemd/system
has() { grep -qxF -- "$2" "$1" || { echo "$1 lacks: $2"; return 1; }; }
check "units rendered" test -f "$U/vc-router.service" -a -f "$U/vc-edge.service" -a -f "$U/vc-worker@.service"
check "no plain vc-worker.service (template only)" test ! -e "$U/vc-worker.service"
check "worker unit: pinned, restarted, fd limit" bash -c "$(declare -f has)
  has '$U/vc-worker@.service' 'ExecStart=$D/opt/vc/bin/vc-worker --config $C/worker-%i.conf --cpu %i' &&
  has '$U/vc-worker@.service' 'CPUAffinity=%i' && has '$U/vc-worker@.service' 'Restart=always' &&
  has '$U/vc-worker@.service' 'LimitNOFILE=65536'"
check "worker configs: one per configured core (1,2,3)" bash -c "
  [[ \$(cd '$C' && ls worker-*.conf | tr '\n' ' ') == 'worker-1.conf worker-2.conf worker-3.conf ' ]]"
check "worker configs: own id, cpu, control port, disjoint UDP ranges" bash -c "$(declare -f has)
  for i in 1 2 3; do k=\$((i - 1)); f='$C'/worker-\$i.conf
    has \$f \"id = testhost-w\$i\" && has \$f \"cpu = \$i\" &&
    has \$f \"control_url = tcp://127.0.0.1:\$((27200 + i))\" &&
    has \$f \"port_min = \$((41000 + k * 100))\" && has \$f \"port_max = \$((41099 + k * 100))\" &&
    has \$f 'redis_url = redis://127.0.0.1:26379' && has \$f 'region = test' &&
    has \$f 'ice_addresses = 127.0.0.1' || exit 1
    grep -q announced_ip \$f && exit 1; done; true"
check "router config" bash -c "$(declare -f has)
  has '$C/router.conf' 'listen = tcp://127.0.0.1:27100' && has '$C/router.conf' 'redis_url = redis://127.0.0.1:26379' &&
  has '$C/router.conf' 'region = test'"
check "edge config: TLS, router, events, secret, UI" bash -c "$(declare -f has)
  f='$C/edge.conf'; has \$f 'http_port = 27443' && has \$f 'tls_cert = $D/etc/vc/tls/edge.crt' &&
  has \$f 'tls_key = $D/etc/vc/tls/edge.key' && has \$f 'router_url = tcp://127.0.0.1:27100' &&
  has \$f 'events_url = tcp://127.0.0.1:27300' && has \$f 'jwt_secret = $(printf 'j%.0s' {1..64})' &&
  has \$f 'public_url = https://meet.test.example' && has \$f 'ui_dir = $D/opt/vc/ui' &&
  [[ \$(stat -c %a \$f) == 640 ]] && test -f '$D/opt/vc/ui/index.html'"
check "self-signed certificate for the public name, key 0640" bash -c "
  openssl x509 -in '$D/etc/vc/tls/edge.crt' -noout -ext subjectAltName | grep -q 'DNS:meet.test.example' &&
  [[ \$(stat -c %a '$D/etc/vc/tls/edge.key') == 640 ]]"
check "binaries installed" test -x "$D/opt/vc/bin/vc-edge" -a -x "$D/opt/vc/bin/vc-router" -a -x "$D/opt/vc/bin/vc-worker" -a -x "$D/opt/vc/bin/vc-ctl"
check "coturn config" bash -c "$(declare -f has)
  f='$D/etc/turnserver.conf'; has \$f 'listening-port=3478' && has \$f 'use-auth-secret' &&
  has \$f 'static-auth-secret=$(printf 't%.0s' {1..64})' && has \$f 'realm=meet.test.example' &&
  has \$f 'allowed-peer-ip=127.0.0.1' && has \$f 'min-port=50000'"
check "redis config" bash -c "$(declare -f has)
  has '$D/etc/redis/redis.conf' 'port 26379' && has '$D/etc/redis/redis.conf' 'bind 127.0.0.1' &&
  ! grep -q replicaof '$D/etc/redis/redis.conf'"
check "nftables ruleset valid and opens edge, ICE, TURN" bash -c "
  f='$D/etc/nftables.conf'; nft -c -f \$f && grep -q 'tcp dport 27443 accept' \$f &&
  grep -q 'udp dport 41000-41299 accept' \$f && grep -q 'udp dport 3478 accept' \$f &&
  grep -q 'ip saddr @cluster4 tcp dport 26379 accept' \$f"
check "sysctl drop-in" grep -q '^net.core.rmem_max = ' "$D/etc/sysctl.d/60-vc.conf"
check "guest halt-polling: set now and at boot (tmpfiles.d)" bash -c "$(declare -f has)
  [[ \$(cat '$D/sys/guest_halt_poll_ns') == 200000 && \$(cat '$D/sys/guest_halt_poll_grow_start') == 200000 ]] &&
  has '$D/etc/tmpfiles.d/vc-haltpoll.conf' 'w $D/sys/guest_halt_poll_ns - - - - 200000' &&
  has '$D/etc/tmpfiles.d/vc-haltpoll.conf' 'w $D/sys/guest_halt_poll_grow_start - - - - 200000'"
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify units" bash -c "
    cd '$U' && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no vc-router.service vc-edge.service vc-worker@1.service 2>&1 |
      grep -v -e 'Failed to .*User' -e 'No such process' -e 'Unit .* not found' | tee /dev/stderr | grep -q . && exit 1 || exit 0"
fi

if play >"$TMP/apply2.log" 2>&1 && grep -Eq 'testhost +: ok=[0-9]+ +changed=0 ' "$TMP/apply2.log"; then
  ok "second apply changes nothing"
else
  nok "second apply changes nothing"; grep -E 'changed:|testhost +:' "$TMP/apply2.log" | tail -20
fi

# Scale to two workers on cores 0 and 1 (this is what the run test starts).
# ... on a host without the haltpoll governor (bare metal): left alone.
if play -e vc_worker_count=2 -e vc_worker_first_cpu=0 -e vc_haltpoll_param="$D/sys/absent" \
  >"$TMP/apply3.log" 2>&1; then ok "apply with 2 workers"; else nok "apply with 2 workers"; tail -30 "$TMP/apply3.log"; fi
check "no haltpoll governor: nothing written" test ! -e "$D/sys/absent"
check "scaled down: stale worker configs removed, ranges re-split" bash -c "$(declare -f has)
  [[ \$(cd '$C' && ls worker-*.conf | tr '\n' ' ') == 'worker-0.conf worker-1.conf ' ]] &&
  has '$C/worker-0.conf' 'port_max = 41149' && has '$C/worker-1.conf' 'port_min = 41150' &&
  has '$C/worker-1.conf' 'port_max = 41299'"
check "layout check rejects more workers than cores" bash -c "$(declare -f play); TMP=$TMP
  out=\$(play -e vc_worker_count=5 2>&1); [[ \$? -ne 0 ]] && grep -q 'one worker per core' <<<\"\$out\""

# --- run what the units say --------------------------------------------------
execstart() { # execstart UNIT [INSTANCE]
  sed -n 's/^ExecStart=//p' "$U/$1" | sed "s/%i/${2:-}/g"
}
start() { # start NAME CMDLINE
  # shellcheck disable=SC2086
  $2 >"$TMP/$1.log" 2>&1 &
  PIDS+=($!)
}
wait_ready() { # wait_ready NAME
  for _ in $(seq 100); do grep -q ready "$TMP/$1.log" && return 0; sleep 0.1; done
  cat "$TMP/$1.log"; return 1
}
start redis "redis-server $D/etc/redis/redis.conf"
for _ in $(seq 50); do redis-cli -p 26379 ping >/dev/null 2>&1 && break; sleep 0.1; done
check "redis-server starts with the rendered config" redis-cli -p 26379 ping
start router "$(execstart vc-router.service)"
start worker0 "$(execstart vc-worker@.service 0)"
start worker1 "$(execstart vc-worker@.service 1)"
start edge "$(execstart vc-edge.service)"
for n in router worker0 worker1 edge; do check "$n starts from its unit and config (ready)" wait_ready $n; done
check "edge serves /healthz over TLS" bash -c "curl -sk --max-time 5 https://127.0.0.1:27443/healthz | grep -q '\"status\":\"ok\"'"
check "both workers registered in region test" bash -c "
  for _ in \$(seq 30); do
    [[ \$(redis-cli -p 26379 zcard vc:workers:test 2>/dev/null) == 2 ]] &&
      redis-cli -p 26379 hget vc:worker:testhost-w1 url | grep -qx tcp://127.0.0.1:27201 && exit 0; sleep 0.1; done; exit 1"
check "a meeting can be created (edge -> router -> Redis)" bash -c "
  curl -sk --max-time 5 -X POST -H 'Content-Type: application/json' -d '{}' https://127.0.0.1:27443/api/rooms | grep -q room"

echo "ansible: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
