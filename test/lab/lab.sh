#!/usr/bin/env bash
# lab.sh: a throwaway multi-host lab on this machine for smoker-actions' integration tests.
#
# Each lab "host" is a network namespace on a bridge, with its own dockerd (own data, own
# mount namespace in which LAB_DIR/hosts/HOST/opt is bind-mounted on /opt) and an sshd that
# runs in the same network and mount namespaces, so what a session sees under /opt is what
# that engine bind-mounts. A registry on the bridge serves images built here from
# busybox-static (no public registry is reachable). Everything the lab starts is recorded in
# LAB_DIR/run/*.pid and `down` stops it. Run `lab.sh help` for the commands.
#
# Addresses: only loopback and 10.LAB_NET.0.0/24 on the lab bridge (plus the container
# subnets inside each host's own namespace) are ever used.
set -Eeuo pipefail
trap 'echo "lab.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES_SRC=$SCRIPT_DIR/images

# Packages the lab needs, from Debian bookworm.
PACKAGES=(docker.io docker-compose docker-registry openssh-server busybox-static iproute2 shellcheck)
# Compose v2 is not in bookworm; trixie's static build runs on bookworm's libc. The .deb is
# fetched with apt from trixie (without adding trixie to the system's sources) and checked
# against this pin before anything is extracted from it.
COMPOSE_VERSION=2.26.1 # what `docker compose version --short` prints, less the Debian revision
COMPOSE_DEB_VERSION=2.26.1-4
COMPOSE_DEB_SHA256=47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea
COMPOSE_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
# Kept across `down`, so that the next `up` need not download again.
CACHE_DIR=/var/cache/smoker-lab
# The 20.10 client from docker.io: its legacy builder is what we build with.
DOCKER=/usr/bin/docker
SSHD=/usr/sbin/sshd

# Image builds: "key dockerfile version". key is name:tag, pushed as REGISTRY/smoker/name:tag.
IMAGE_BUILDS=(
  "backend:1.0.0 backend/Dockerfile 1.0.0"
  "backend:2.0.0 backend/Dockerfile 2.0.0"
  "backend:crash backend/Dockerfile.crash crash"
  "backend:unhealthy backend/Dockerfile.unhealthy unhealthy"
  "backend:slow backend/Dockerfile.slow slow"
  "backend:flaky backend/Dockerfile.flaky flaky"
  "frontend:1.0.0 frontend/Dockerfile 1.0.0"
  "frontend:2.0.0 frontend/Dockerfile 2.0.0"
  "db:1.0.0 db/Dockerfile 1.0.0"
  "tools:1 tools/Dockerfile 1"
)

# Applets linked in the base image (see build_images).
BUSYBOX_APPLETS=(sh cat cp date df du echo env false grep gzip gunzip head hostname httpd id kill
  ln ls mkdir mv nc printf ps pwd rm sed sha256sum sleep sort tail tar tee test touch true uname wc
  wget xargs)

usage() {
  cat <<EOF
usage: lab.sh COMMAND [HOST]

  install          install the Debian packages and Compose v2 the lab needs (idempotent)
  up               build or complete the lab (idempotent; installs first); writes LAB_DIR/lab.json
  down             stop everything the lab started and remove it (idempotent)
  status           each component up/down; exit 0 all up, 1 partly, 3 none
  pids             the recorded pids, "name pid" per line
  env HOST         print "export DOCKER_HOST=..." for HOST's engine
  ssh HOST [CMD]   ssh to HOST as root with the lab's client key and known_hosts

fault switches (each idempotent; \`up\` also undoes them all):
  partition HOST   bridge side of HOST's veth down, plus a pinned ARP entry: packets to
                   and from HOST vanish (a blackhole: connects hang, no refusal)
  heal HOST        undo partition
  refuse HOST      stop HOST's sshd listener: new connections are refused (open sessions
                   carry on)
  accept HOST      start HOST's sshd again
  freeze HOST      SIGSTOP ALL of HOST's sshd processes, the listener included: open sessions
                   hang and new connections hang after the TCP handshake (no banner)
  thaw HOST        SIGCONT them
  registry-stop    stop the registry (pulls fail)
  registry-start   start it again
  rotate-key HOST  new host key for HOST, restart its sshd, update known_hosts and lab.json
  cpu HOST CORES   cap HOST (engine, containerd, sshd and its sessions, its containers) at
                   CORES of CPU (e.g. 0.3; \`off\` lifts it), as if it had a CPU of its own:
                   the lab's hosts otherwise share this machine's cores

environment (defaults): LAB_DIR=/tmp/smoker-lab LAB_NAME=lab0 LAB_NET=231
  LAB_HOSTS="dev-cloud prod-cloud smoker-pi" LAB_IMAGES=1 LAB_REGISTRY_PORT=5000
  (LAB_IMAGES=0: no registry, no builder, no images). Commands other than \`up\` use the
  settings saved in LAB_DIR/lab.env when the lab was built.
EOF
}

# ---------------------------------------------------------------------------------------
# small helpers

T0=$(date +%s%N)
elapsed() { local ms=$((($(date +%s%N) - T0) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
log() { printf '[%6ss] %s\n' "$(elapsed)" "$*"; }
warn() { printf 'lab.sh: warning: %s\n' "$*" >&2; }
die() { printf 'lab.sh: %s\n' "$*" >&2; exit 2; }

# The lab's addresses and names, derived from the settings.
derive() {
  GW=10.$LAB_NET.0.1
  REGISTRY=$GW:$LAB_REGISTRY_PORT
  # Each host engine's docker0 and its compose networks: 172.(20+N%10).0.0/16, host i gets
  # 172.(20+N%10).i.1/24 for docker0. They live inside the host's namespace only.
  POOL_OCTET=$((20 + LAB_NET % 10))
  read -r -a HOSTS <<<"$LAB_HOSTS"
  RUN=$LAB_DIR/run
  STATE=$LAB_DIR/state
  KEYS=$LAB_DIR/keys
  BUILDER=$LAB_DIR/builder
  KNOWN_HOSTS=$LAB_DIR/known_hosts
  BRIDGE_ALIAS="smoker-lab $LAB_DIR"
}
host_ip() { echo "10.$LAB_NET.0.$((10 + $1))"; }
host_ns() { echo "$LAB_NAME-$1"; }
host_dir() { echo "$LAB_DIR/hosts/$1"; }
host_sock() { echo "$LAB_DIR/hosts/$1/docker.sock"; }
veth_br() { echo "v${LAB_NAME}h$1"; }   # bridge side, in the root namespace
veth_ns() { echo "v${LAB_NAME}h${1}p"; } # host side, inside the host's namespace

# 1-based index of a host name in LAB_HOSTS, or die.
host_index() {
  local i
  for i in "${!HOSTS[@]}"; do
    if [[ ${HOSTS[$i]} == "$1" ]]; then echo $((i + 1)); return; fi
  done
  die "unknown host '$1' (hosts: ${HOSTS[*]})"
}

validate() {
  [[ $LAB_DIR =~ ^/[A-Za-z0-9._/-]+$ && $LAB_DIR != / ]] || die "LAB_DIR must be an absolute path of [A-Za-z0-9._/-]: '$LAB_DIR'"
  [[ $LAB_NAME =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "LAB_NAME must be 1-10 of [a-z0-9], starting with a letter (it names the bridge and veths): '$LAB_NAME'"
  if ! [[ $LAB_NET =~ ^[0-9]+$ ]] || ((LAB_NET < 1 || LAB_NET > 254)); then die "LAB_NET must be 1..254: '$LAB_NET'"; fi
  if ! [[ $LAB_REGISTRY_PORT =~ ^[0-9]+$ ]] || ((LAB_REGISTRY_PORT < 1 || LAB_REGISTRY_PORT > 65535)); then
    die "LAB_REGISTRY_PORT must be 1..65535: '$LAB_REGISTRY_PORT'"
  fi
  [[ $LAB_IMAGES == 0 || $LAB_IMAGES == 1 ]] || die "LAB_IMAGES must be 0 or 1: '$LAB_IMAGES'"
  ((${#HOSTS[@]} >= 1 && ${#HOSTS[@]} <= 99)) || die "LAB_HOSTS must name 1..99 hosts"
  local h seen=" "
  for h in "${HOSTS[@]}"; do
    [[ $h =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "bad host name '$h' (1-31 of [a-z0-9-])"
    [[ $seen != *" $h "* ]] || die "host '$h' is listed twice"
    seen+="$h "
    # unix socket paths are limited to 107 bytes; containerd's is the deepest one.
    local sock="$LAB_DIR/hosts/$h/exec/containerd/containerd.sock.ttrpc"
    ((${#sock} < 100)) || die "LAB_DIR is too long: $sock would exceed the unix socket path limit"
  done
}

save_settings() {
  {
    printf 'LAB_NAME=%q\n' "$LAB_NAME"
    printf 'LAB_NET=%q\n' "$LAB_NET"
    printf 'LAB_HOSTS=%q\n' "$LAB_HOSTS"
    printf 'LAB_IMAGES=%q\n' "$LAB_IMAGES"
    printf 'LAB_REGISTRY_PORT=%q\n' "$LAB_REGISTRY_PORT"
  } >"$LAB_DIR/lab.env"
}
settings_line() { echo "$LAB_NAME|$LAB_NET|$LAB_HOSTS|$LAB_IMAGES|$LAB_REGISTRY_PORT"; }
load_saved_settings() {
  if [[ -f $LAB_DIR/lab.env ]]; then
    # shellcheck source=/dev/null
    source "$LAB_DIR/lab.env"
  fi
}

# ---------------------------------------------------------------------------------------
# processes

record_pid() { mkdir -p "$RUN"; echo "$2" >"$RUN/$1.pid"; }
recorded_pid() { if [[ -f $RUN/$1.pid ]]; then cat "$RUN/$1.pid"; fi; }

# The process's command line, NULs turned into spaces (bash builtins only: this runs for
# every process on the machine during a sweep).
# The result goes to the global CMDLINE (no subshell, no fork).
cmdline_of() {
  local -a parts=()
  mapfile -d '' parts 2>/dev/null <"/proc/$1/cmdline" || return 1
  CMDLINE="${parts[*]}"
}
# /proc/PID/stat after the "(comm)" field: "state ppid ...", into the global STAT.
stat_of() {
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || return 1
  STAT=${s##*) }
}
# Running (not gone, not a zombie)?
running() { stat_of "$1" && [[ ${STAT:0:1} != Z ]]; }
# The process's single-letter state (R, S, T, Z...).
proc_state() { stat_of "$1" && echo "${STAT:0:1}"; }
parent_of() { local p; stat_of "$1" || return 1; read -r _ p _ <<<"$STAT"; echo "$p"; }
# Is pid a running process of this lab? Its command line names LAB_DIR/ (the trailing slash
# keeps /tmp/smoker-lab from matching /tmp/smoker-lab-downtest). This guards against pid reuse.
ours() {
  [[ -n ${1:-} ]] && running "$1" && cmdline_of "$1" || return 1
  [[ $CMDLINE == *"$LAB_DIR/"* ]]
}
alive() { ours "$(recorded_pid "$1")"; }

# Start a long-running daemon detached from this shell (own session, stdio to a log file)
# and record its pid. setsid, nsenter and unshare all exec (none forks here), so $! is the
# daemon itself.
start_daemon() {
  local name=$1 logfile=$2
  shift 2
  # 9>&-: the daemon must not inherit (and so hold forever) the lab's lock, see main.
  setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  local pid=$! n
  record_pid "$name" "$pid"
  # Until the fork has exec'd, its command line is still this script's: wait for that,
  # so that alive() can tell it from a stranger that reused the pid.
  for ((n = 0; n < 100; n++)); do
    if ours "$pid" || ! running "$pid"; then return 0; fi
    sleep 0.02
  done
}

# Our own pid and our ancestors': never signalled by a sweep.
protected_pids() {
  local p=$$
  while [[ -n $p && $p -gt 1 ]]; do
    echo "$p"
    p=$(parent_of "$p") || break
  done
  echo "$BASHPID"
}

# TERM (and CONT, so that stopped ones get it) the given pids, wait up to $1 seconds for
# them to go, then KILL what is left and wait up to 5 s more.
terminate() {
  local wait_s=$1 p i
  shift
  (($#)) || return 0
  local -a left=()
  kill -TERM "$@" 2>/dev/null || true
  kill -CONT "$@" 2>/dev/null || true
  for ((i = 0; i < wait_s * 10 + 50; i++)); do
    left=()
    for p in "$@"; do if running "$p"; then left+=("$p"); fi; done
    ((${#left[@]})) || return 0
    # Out of patience: KILL the rest, then give them 5 s to go.
    if ((i == wait_s * 10)); then kill -KILL "${left[@]}" 2>/dev/null || true; fi
    sleep 0.1
  done
  warn "still running after SIGKILL: ${left[*]}"
}

# All processes of this lab (or of one host, given its name): those whose command line
# names the lab's (host's) directory, those inside the lab's (host's) network namespaces
# and those in the lab's (host's) container cgroups. Prints pids, our own excluded.
lab_processes() {
  local only_host=${1:-} dir=$LAB_DIR/ prefix=$LAB_NAME-
  if [[ -n $only_host ]]; then dir=$LAB_DIR/hosts/$only_host/; prefix=$LAB_NAME-$only_host; fi
  local -a nsfiles=() cg_pids=()
  local f p
  for f in /run/netns/"$prefix"*; do
    [[ -e $f ]] || continue
    [[ -z $only_host || $f == "/run/netns/$prefix" ]] && nsfiles+=("$f")
  done
  for f in /sys/fs/cgroup/*/"$prefix"*; do
    [[ -d $f ]] || continue
    [[ -z $only_host || ${f##*/} == "$prefix" ]] || continue
    while IFS= read -r p; do cg_pids+=("$p"); done < <(find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null)
  done
  local protected
  protected=" $(protected_pids | tr '\n' ' ') "
  local hit ns
  for f in /proc/[0-9]*; do
    p=${f#/proc/}
    [[ $protected == *" $p "* ]] && continue
    hit=0
    cmdline_of "$p" || continue
    if [[ $CMDLINE == *"$dir"* ]]; then hit=1; else
      for ns in "${nsfiles[@]}"; do
        # -ef: same device and inode, i.e. the same network namespace.
        if [[ /proc/$p/ns/net -ef $ns ]]; then hit=1; break; fi
      done
    fi
    if ((hit)) && running "$p"; then echo "$p"; fi
  done
  for p in "${cg_pids[@]}"; do
    [[ $protected == *" $p "* ]] || echo "$p"
  done
}

# ---------------------------------------------------------------------------------------
# packages

# While apt installs, keep it from starting the packages' own services (a system dockerd,
# sshd on 0.0.0.0:22, a registry on :5000 would clash with the lab or listen too widely).
apt_install() {
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# written by smoker-lab lab.sh during apt-get install\nexit 101\n' >"$policy"
    chmod +x "$policy"
    made_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" || rc=$?
  ((made_policy)) && rm -f "$policy"
  return "$rc"
}

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then missing+=("$p"); fi
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -q
    apt_install "${missing[@]}"
  fi
  command -v node >/dev/null || die "node is needed (to write lab.json) and is not on PATH"
  local tool
  for tool in nsenter unshare setsid ssh ssh-keygen ip; do
    command -v "$tool" >/dev/null || die "'$tool' is missing"
  done
  ensure_compose_v2
}

ensure_compose_v2() {
  if [[ -x $COMPOSE_PLUGIN && $("$COMPOSE_PLUGIN" version --short 2>/dev/null || true) == "$COMPOSE_DEB_VERSION" ]]; then
    return
  fi
  [[ $(dpkg --print-architecture) == amd64 ]] || die "Compose v2: the pinned .deb is for amd64, this machine is $(dpkg --print-architecture)"
  local cache=$CACHE_DIR/trixie
  local deb=$cache/docker-compose_${COMPOSE_DEB_VERSION}_amd64.deb
  if [[ ! -f $deb ]] || [[ $(sha256sum "$deb" | cut -d' ' -f1) != "$COMPOSE_DEB_SHA256" ]]; then
    log "fetching Compose v2 ($COMPOSE_DEB_VERSION) from Debian trixie"
    rm -f "$deb"
    mkdir -p "$cache/lists/partial"
    echo "deb http://deb.debian.org/debian trixie main" >"$cache/sources.list"
    # A private sources list and lists dir: trixie never enters the system's apt sources.
    local o=(-o "Dir::Etc::SourceList=$cache/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$cache/lists" -o APT::Sandbox::User=root)
    apt-get "${o[@]}" update -q
    (cd "$cache" && apt-get "${o[@]}" download "docker-compose=$COMPOSE_DEB_VERSION")
    rm -rf "$cache/lists" # 20 MB of trixie indexes; only the .deb is worth keeping
  fi
  local got
  got=$(sha256sum "$deb" | cut -d' ' -f1)
  if [[ $got != "$COMPOSE_DEB_SHA256" ]]; then
    rm -f "$deb"
    die "Compose v2: $deb has sha256 $got, expected $COMPOSE_DEB_SHA256 (pinned in lab.sh); refusing to install it"
  fi
  local x
  x=$(mktemp -d)
  dpkg-deb -x "$deb" "$x"
  install -D -m 0755 "$x/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_PLUGIN"
  rm -rf "$x"
  [[ $("$COMPOSE_PLUGIN" version --short) == "$COMPOSE_DEB_VERSION" ]] || die "Compose v2: installed plugin does not report $COMPOSE_DEB_VERSION"
  log "installed Compose v2 $COMPOSE_VERSION as $COMPOSE_PLUGIN"
}

# ---------------------------------------------------------------------------------------
# network

bridge_owner() { cat "/sys/class/net/$LAB_NAME/ifalias" 2>/dev/null || true; }

ensure_bridge() {
  if [[ -e /sys/class/net/$LAB_NAME ]]; then
    [[ -d /sys/class/net/$LAB_NAME/bridge ]] || die "interface $LAB_NAME exists and is not a bridge"
    local owner
    owner=$(bridge_owner)
    [[ -z $owner || $owner == "$BRIDGE_ALIAS" ]] || die "bridge $LAB_NAME belongs to another lab ($owner); pick another LAB_NAME"
  else
    ip link add "$LAB_NAME" type bridge
  fi
  # The alias marks the bridge as this lab's, so that no other lab's down removes it.
  ip link set dev "$LAB_NAME" alias "$BRIDGE_ALIAS"
  ip addr replace "$GW/24" dev "$LAB_NAME"
  ip link set "$LAB_NAME" up
}

# The host's namespace, its veth pair and addresses. A namespace that is there but not
# wired as expected is emptied and made again.
ensure_netns() {
  local i=$1 h=$2 ns br peer ip
  ns=$(host_ns "$h") br=$(veth_br "$i") peer=$(veth_ns "$i") ip=$(host_ip "$i")
  if [[ -e /run/netns/$ns ]] &&
    [[ $(basename "$(readlink "/sys/class/net/$br/master" 2>/dev/null)" 2>/dev/null) == "$LAB_NAME" ]] &&
    ip -n "$ns" -o addr show dev "$peer" 2>/dev/null | grep -F "inet $ip/24" >/dev/null; then
    ip link set "$br" up # heals a partition
    unpin_arp "$ip"
    return
  fi
  if [[ -e /run/netns/$ns ]]; then
    log "$h: namespace $ns is incomplete: rebuilding it"
    stop_host "$h"
    ip netns del "$ns" 2>/dev/null || true
  fi
  ip link del "$br" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$br" type veth peer name "$peer"
  ip link set "$br" master "$LAB_NAME"
  ip link set "$br" up
  ip link set "$peer" netns "$ns"
  ip -n "$ns" addr add "$ip/24" dev "$peer"
  ip -n "$ns" link set "$peer" up
  ip -n "$ns" link set lo up
  ip -n "$ns" route add default via "$GW"
}

unpin_arp() {
  if [[ -n $(ip neigh show "$1" dev "$LAB_NAME" nud permanent 2>/dev/null) ]]; then
    ip neigh del "$1" dev "$LAB_NAME" 2>/dev/null || true
  fi
}

# Can we open a TCP connection to ip:port within 1 s? (bash's /dev/tcp, lab addresses only)
tcp_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# ---------------------------------------------------------------------------------------
# registry, builder, images

ensure_registry() {
  if alive registry && tcp_open "$GW" "$LAB_REGISTRY_PORT"; then return; fi
  stop_registry
  mkdir -p "$LAB_DIR/registry/data"
  cat >"$LAB_DIR/registry/config.yml" <<EOF
# smoker lab registry ($LAB_NAME): plain HTTP on the lab bridge only.
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $LAB_DIR/registry/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
  start_daemon registry "$LAB_DIR/registry/registry.log" docker-registry serve "$LAB_DIR/registry/config.yml"
  local n
  # Up to 30 s: on a loaded 2-core machine it has been seen to take over 10.
  for ((n = 1; n <= 150; n++)); do
    tcp_open "$GW" "$LAB_REGISTRY_PORT" && { log "registry up on $REGISTRY (pid $(recorded_pid registry))"; return; }
    alive registry || break
    sleep 0.2
  done
  tail -n 20 "$LAB_DIR/registry/registry.log" >&2 || true
  die "the registry did not come up on $REGISTRY (log: $LAB_DIR/registry/registry.log)"
}

stop_registry() {
  local p
  p=$(recorded_pid registry)
  if ours "$p"; then terminate 10 "$p"; fi
  rm -f "$RUN/registry.pid"
}

engine_ok() { timeout 10 "$DOCKER" -H "unix://$1" info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

# Wait (bounded) for an engine to answer; print progress now and then.
wait_engine() {
  local name=$1 sock=$2 pidname=$3 logfile=$4 n
  for ((n = 1; n <= 120; n++)); do
    if engine_ok "$sock"; then log "$name: engine up (pid $(recorded_pid "$pidname"))"; return; fi
    alive "$pidname" || break
    ((n % 20 == 0)) && log "$name: waiting for the engine ($n/120)"
    sleep 0.25
  done
  tail -n 30 "$logfile" >&2 || true
  die "$name: the engine did not come up (log: $logfile)"
}

dockerd_common_args() { # dir
  echo --data-root "$1/data" --exec-root "$1/exec" --pidfile "$1/docker.pid" -H "unix://$1/docker.sock" \
    --storage-driver=vfs --iptables=false --ip-masq=false --insecure-registry "$REGISTRY"
}

# The builder engine runs in the root network namespace, only to build and push images. It
# gets no bridge at all (--bridge=none instead of a --bip): a docker0 in the root namespace
# would clash with another lab's builder or a system engine, and builds need no network.
# It has a private mount namespace, so that its mounts stay out of the machine's table and
# its containerd makes its /opt/containerd in the builder dir, not in the machine's /opt.
start_builder() {
  if alive builder; then return; fi
  stop_builder
  mkdir -p "$BUILDER/opt"
  local args
  read -r -a args <<<"$(dockerd_common_args "$BUILDER")"
  # shellcheck disable=SC2016 # $1, $@ are the inner sh's arguments
  start_daemon builder "$BUILDER/dockerd.log" unshare --mount sh -c \
    'mount --make-rprivate / && mount --bind "$1" /opt && shift && exec "$@"' lab-builder "$BUILDER/opt" \
    dockerd "${args[@]}" --bridge=none --cgroup-parent "/$LAB_NAME-builder"
}

stop_builder() {
  local p
  p=$(recorded_pid builder)
  if ours "$p"; then
    if engine_ok "$BUILDER/docker.sock"; then remove_containers "$BUILDER/docker.sock"; fi
    terminate 20 "$p"
  fi
  rm -f "$RUN/builder.pid"
  local -a rest=()
  mapfile -t rest < <(lab_processes_matching "$BUILDER/")
  terminate 5 "${rest[@]}"
  rm -rf "$BUILDER/exec"
}

# pids whose command line names the given directory (our own excluded).
lab_processes_matching() {
  local protected f p
  protected=" $(protected_pids | tr '\n' ' ') "
  for f in /proc/[0-9]*; do
    p=${f#/proc/}
    [[ $protected == *" $p "* ]] && continue
    cmdline_of "$p" || continue
    if [[ $CMDLINE == *"$1"* ]] && running "$p"; then echo "$p"; fi
  done
}

remove_containers() {
  local -a ids=()
  mapfile -t ids < <(timeout 20 "$DOCKER" -H "unix://$1" ps -aq 2>/dev/null || true)
  ((${#ids[@]})) || return 0
  # rm -f kills and removes: the shims exit with their containers.
  timeout 60 "$DOCKER" -H "unix://$1" rm -f -v "${ids[@]}" >/dev/null 2>&1 || warn "could not remove all containers via $1"
}

# A fingerprint of everything an image build depends on, to know when to rebuild.
images_hash() {
  {
    printf '%s\n' "${IMAGE_BUILDS[@]}" "$REGISTRY" "${BUSYBOX_APPLETS[@]}"
    sha256sum /bin/busybox
    (cd "$IMAGES_SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

# Are the images recorded in state/images.tsv all still in the registry's storage?
images_present() {
  [[ -f $STATE/images.tsv && -f $STATE/images.hash ]] || return 1
  [[ $(cat "$STATE/images.hash") == "$(images_hash)" ]] || return 1
  local key ref repo hex n=0
  while IFS=$'\t' read -r key ref; do
    repo=${ref%@*} repo=${repo#"$REGISTRY"/} hex=${ref##*sha256:}
    [[ -f $LAB_DIR/registry/data/docker/registry/v2/repositories/$repo/_manifests/revisions/sha256/$hex/link ]] || return 1
    n=$((n + 1))
  done <"$STATE/images.tsv"
  ((n == ${#IMAGE_BUILDS[@]}))
}

build_images() {
  if images_present; then log "images: already in the registry"; return; fi
  local sock=$BUILDER/docker.sock buildlog=$BUILDER/import.log
  local -a d=("$DOCKER" -H "unix://$sock")
  : >"$buildlog"
  # The base image: a rootfs holding only busybox-static and links for the applets the
  # images and a poking test need. Not all ~400: with the vfs storage driver every
  # container (each build step makes one) copies the whole tree file by file, and with
  # 400 links creating one took 0.9 s instead of 0.05 s.
  local root=$BUILDER/rootfs a
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" "$root/www"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for a in "${BUSYBOX_APPLETS[@]}"; do ln -s busybox "$root/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | "${d[@]}" import - lab/busybox:1 >>"$buildlog" 2>&1 || { tail "$buildlog" >&2; die "images: import of lab/busybox:1 failed"; }
  # Build and push every tag at once: each legacy-builder step costs about a second of
  # waiting on the daemon, and parallel builds overlap those waits (9 tags: ~70 s -> ~8 s).
  local spec key file version name tag ref digest failed=0
  local -a jobs=()
  for spec in "${IMAGE_BUILDS[@]}"; do
    read -r key file version <<<"$spec"
    ref=$REGISTRY/smoker/${key%%:*}:${key#*:}
    # A bash -c whose arguments name LAB_DIR/, not a subshell: should this script be killed
    # half-way, `down` can tell the job is the lab's and stop it.
    # shellcheck disable=SC2016 # $1.. are the inner bash's arguments
    DOCKER_BUILDKIT=0 bash -c '"$1" -H "$2" build --build-arg "VERSION=$3" -t "$4" -f "$5" "$6" && "$1" -H "$2" push "$4"' \
      lab-build "$DOCKER" "unix://$sock" "$version" "$ref" "$IMAGES_SRC/$file" "$IMAGES_SRC" \
      >"$BUILDER/build-${key/:/-}.log" 2>&1 9>&- &
    jobs+=("$!")
  done
  local j=0
  for spec in "${IMAGE_BUILDS[@]}"; do
    read -r key _ <<<"$spec"
    if ! wait "${jobs[$j]}"; then
      tail -n 15 "$BUILDER/build-${key/:/-}.log" >&2
      warn "images: building or pushing $key failed (log: $BUILDER/build-${key/:/-}.log)"
      failed=1
    fi
    j=$((j + 1))
  done
  ((failed == 0)) || die "images: some builds failed"
  : >"$STATE/images.tsv.tmp"
  for spec in "${IMAGE_BUILDS[@]}"; do
    read -r key _ <<<"$spec"
    name=${key%%:*} tag=${key#*:}
    ref=$REGISTRY/smoker/$name:$tag
    digest=$("${d[@]}" image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$ref" | grep -m1 -F "$REGISTRY/smoker/$name@sha256:" || true)
    [[ -n $digest ]] || die "images: no digest for $ref"
    printf '%s\t%s\n' "$key" "$digest" >>"$STATE/images.tsv.tmp"
  done
  mv "$STATE/images.tsv.tmp" "$STATE/images.tsv"
  images_hash >"$STATE/images.hash"
  log "images: built and pushed ${#IMAGE_BUILDS[@]} tags"
}

# ---------------------------------------------------------------------------------------
# hosts

# The host's engine, in the host's network namespace and a mount namespace of its own, where
# the host's opt dir is bind-mounted on /opt and the UTS name is the host's name.
start_host_dockerd() {
  local i=$1 h=$2 hd ns
  hd=$(host_dir "$h") ns=$(host_ns "$h")
  mkdir -p "$hd/opt" "$hd/data" "$hd/bin"
  local args
  read -r -a args <<<"$(dockerd_common_args "$hd")"
  # In the new mount namespace: make it private (nothing leaks out), drop the copies of
  # /run/netns (they would pin other labs' namespaces while this one lives), bind /opt.
  # shellcheck disable=SC2016 # $1, $2, $@ are the inner sh's arguments
  local script='mount --make-rprivate / && { umount -l /run/netns 2>/dev/null || true; } &&
    mount --bind "$1" /opt && echo "$2" >/proc/sys/kernel/hostname && shift 2 && exec "$@"'
  start_daemon "$h.dockerd" "$hd/dockerd.log" \
    nsenter --net="/run/netns/$ns" unshare --mount --uts sh -c "$script" lab-host "$hd/opt" "$h" \
    dockerd "${args[@]}" --bip "172.$POOL_OCTET.$i.1/24" \
    --default-address-pool "base=172.$POOL_OCTET.0.0/16,size=24" --cgroup-parent "/$LAB_NAME-$h"
}

# Kill whatever of the host still runs (sshd, engine, containerd, shims, containers) and
# forget its runtime state. Keeps its data and /opt.
stop_host() {
  local h=$1 hd p
  hd=$(host_dir "$h")
  # Thaw first: a stopped process cannot act on TERM.
  local -a procs=()
  mapfile -t procs < <(lab_processes "$h")
  if ((${#procs[@]})); then kill -CONT "${procs[@]}" 2>/dev/null || true; fi
  if ours "$(recorded_pid "$h.dockerd")" && engine_ok "$hd/docker.sock"; then remove_containers "$hd/docker.sock"; fi
  local -a mine=()
  for p in "$(recorded_pid "$h.sshd")" "$(recorded_pid "$h.dockerd")"; do
    if ours "$p"; then mine+=("$p"); fi
  done
  # dockerd stops its containerd on the way out.
  terminate 20 "${mine[@]}"
  mapfile -t procs < <(lab_processes "$h")
  terminate 5 "${procs[@]}"
  rm -f "$RUN/$h.dockerd.pid" "$RUN/$h.sshd.pid" "$hd/docker.sock" "$hd/docker.pid" "$hd/sshd.pid"
  rm -rf "$hd/exec"
}

ensure_host_keys() {
  local h=$1 hd
  hd=$(host_dir "$h")
  mkdir -p "$hd"
  if [[ ! -f $hd/ssh_host_ed25519_key || ! -f $hd/ssh_host_ed25519_key.pub ]]; then
    rm -f "$hd/ssh_host_ed25519_key" "$hd/ssh_host_ed25519_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "$LAB_NAME-$h" -f "$hd/ssh_host_ed25519_key"
  fi
}

write_sshd_config() {
  local i=$1 h=$2 hd
  hd=$(host_dir "$h")
  cat >"$hd/sshd_config" <<EOF
# sshd for lab host $h ($LAB_NAME), written by lab.sh
ListenAddress $(host_ip "$i"):22
HostKey $hd/ssh_host_ed25519_key
PidFile $hd/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $KEYS/authorized_keys
StrictModes no
UsePAM no
PrintMotd no
# Sessions talk to this host's engine, whatever client they run (docker, docker compose,
# docker-compose), and find the host's own programs (stand-ins tests install, such as a
# tailscale CLI) in its bin dir first.
SetEnv DOCKER_HOST=unix://$hd/docker.sock PATH=$hd/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Subsystem sftp internal-sftp
# Tests open many sessions at once.
MaxSessions 100
MaxStartups 100:30:200
LogLevel VERBOSE
EOF
}

# sshd in the same network, mount and UTS namespaces as the host's engine.
start_sshd() {
  local i=$1 h=$2 hd dpid
  hd=$(host_dir "$h")
  dpid=$(recorded_pid "$h.dockerd")
  ours "$dpid" || die "$h: cannot start sshd: the engine is not running"
  mkdir -p /run/sshd # privilege separation dir, shared by every sshd on the machine
  write_sshd_config "$i" "$h"
  "$SSHD" -t -f "$hd/sshd_config" || die "$h: bad sshd config $hd/sshd_config"
  start_daemon "$h.sshd" "$hd/sshd.out" \
    nsenter --net="/proc/$dpid/ns/net" --mount="/proc/$dpid/ns/mnt" --uts="/proc/$dpid/ns/uts" \
    "$SSHD" -D -f "$hd/sshd_config" -E "$hd/sshd.log"
}

stop_sshd() {
  local h=$1 p
  p=$(recorded_pid "$h.sshd")
  if ours "$p"; then terminate 10 "$p"; fi
  rm -f "$RUN/$h.sshd.pid"
}

# ssh to a host with the lab's client key, checking the host key against known_hosts.
lab_ssh() {
  local ip=$1
  shift
  ssh -F /dev/null -i "$KEYS/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" -o ConnectTimeout=3 \
    -o LogLevel=ERROR "root@$ip" "$@"
}

# Wait (bounded) until the host's sshd takes a login and lands it on the host's engine.
wait_sshd() {
  local i=$1 h=$2 ip hd out n want
  ip=$(host_ip "$i") hd=$(host_dir "$h")
  want="unix://$hd/docker.sock $h"
  for ((n = 1; n <= 40; n++)); do
    # shellcheck disable=SC2016 # expanded by the remote shell
    out=$(lab_ssh "$ip" 'echo "$DOCKER_HOST $(cat /proc/sys/kernel/hostname)"' 2>/dev/null || true)
    if [[ $out == "$want" ]]; then log "$h: sshd up on $ip:22 (pid $(recorded_pid "$h.sshd"))"; return; fi
    [[ -n $out ]] && die "$h: ssh landed in the wrong place: '$out', expected '$want'"
    alive "$h.sshd" || break
    ((n % 10 == 0)) && log "$h: waiting for sshd ($n/40)"
    sleep 0.25
  done
  tail -n 20 "$hd/sshd.log" >&2 || true
  die "$h: sshd does not accept the client key on $ip:22 (log: $hd/sshd.log)"
}

# The passphrase-protected key must work too (ssh reads the passphrase via SSH_ASKPASS).
check_passphrase_key() {
  local ip=$1
  SSH_ASKPASS=$KEYS/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
    ssh -F /dev/null -i "$KEYS/id_ed25519_pass" -o IdentitiesOnly=yes -o BatchMode=no \
    -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" -o ConnectTimeout=3 \
    -o LogLevel=ERROR "root@$ip" true </dev/null ||
    die "the passphrase-protected client key is not accepted by $ip"
}

ensure_client_keys() {
  mkdir -p "$KEYS"
  chmod 700 "$KEYS"
  if [[ ! -f $KEYS/id_ed25519 || ! -f $KEYS/id_ed25519.pub ]]; then
    rm -f "$KEYS/id_ed25519" "$KEYS/id_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C "smoker-lab client" -f "$KEYS/id_ed25519"
  fi
  if [[ ! -f $KEYS/id_ed25519_pass || ! -f $KEYS/id_ed25519_pass.pub || ! -s $KEYS/passphrase ]]; then
    rm -f "$KEYS/id_ed25519_pass" "$KEYS/id_ed25519_pass.pub"
    od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$KEYS/passphrase"
    chmod 600 "$KEYS/passphrase"
    ssh-keygen -q -t ed25519 -N "$(cat "$KEYS/passphrase")" -C "smoker-lab client (passphrase)" -f "$KEYS/id_ed25519_pass"
  fi
  printf '#!/bin/sh\nexec cat %s\n' "$KEYS/passphrase" >"$KEYS/askpass"
  chmod 700 "$KEYS/askpass"
  cat "$KEYS/id_ed25519.pub" "$KEYS/id_ed25519_pass.pub" >"$KEYS/authorized_keys"
}

# known_hosts and state/hosts.tsv from the host keys, then lab.json.
write_records() {
  mkdir -p "$STATE"
  local i h ip hd pub line fp
  : >"$KNOWN_HOSTS.tmp"
  : >"$STATE/hosts.tsv.tmp"
  for i in "${!HOSTS[@]}"; do
    h=${HOSTS[$i]} ip=$(host_ip $((i + 1))) hd=$(host_dir "${HOSTS[$i]}")
    pub=$(cut -d' ' -f1,2 <"$hd/ssh_host_ed25519_key.pub")
    line="$ip $pub"
    fp=$(ssh-keygen -lf "$hd/ssh_host_ed25519_key.pub" | cut -d' ' -f2)
    echo "$line" >>"$KNOWN_HOSTS.tmp"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$h" "$ip" "$(host_ns "$h")" "unix://$hd/docker.sock" \
      "$hd/opt" "$hd/ssh_host_ed25519_key" "$line" "$fp" >>"$STATE/hosts.tsv.tmp"
  done
  mv "$KNOWN_HOSTS.tmp" "$KNOWN_HOSTS"
  mv "$STATE/hosts.tsv.tmp" "$STATE/hosts.tsv"
}
write_lab_json() {
  local registry=""
  ((LAB_IMAGES)) && registry=$REGISTRY
  ((LAB_IMAGES)) || rm -f "$STATE/images.tsv"
  LAB_DIR=$LAB_DIR LAB_NAME=$LAB_NAME LAB_GATEWAY=$GW LAB_REGISTRY=$registry node "$SCRIPT_DIR/lab-json.mjs"
}

# sshd processes of a host: its listener and every sshd below it.
sshd_tree() {
  local root=$1 f p c
  [[ -n $root ]] && running "$root" || return 0
  echo "$root"
  local -a todo=("$root")
  local -A kids=()
  for f in /proc/[0-9]*; do
    p=${f#/proc/}
    stat_of "$p" || continue
    read -r _ c _ <<<"$STAT"
    kids[$c]+="$p "
  done
  while ((${#todo[@]})); do
    p=${todo[0]}
    todo=("${todo[@]:1}")
    for c in ${kids[$p]:-}; do
      if [[ $(cat "/proc/$c/comm" 2>/dev/null) == sshd ]]; then echo "$c"; todo+=("$c"); fi
    done
  done
}

# ---------------------------------------------------------------------------------------
# commands

cmd_up() {
  local requested
  requested=$(settings_line)
  if [[ -f $LAB_DIR/lab.env ]]; then
    (
      load_saved_settings
      [[ $(settings_line) == "$requested" ]]
    ) || {
      log "settings differ from the lab in $LAB_DIR: taking it down first"
      (
        load_saved_settings
        derive
        cmd_down
      )
    }
  fi
  if [[ -e $LAB_DIR && ! -f $LAB_DIR/.smoker-lab && -n $(ls -A "$LAB_DIR" 2>/dev/null) ]]; then
    die "$LAB_DIR exists, is not empty and is not a lab dir: refusing to use it"
  fi

  log "lab $LAB_NAME up: dir $LAB_DIR, net 10.$LAB_NET.0.0/24, hosts: ${HOSTS[*]}, images: $LAB_IMAGES"
  ensure_packages
  local t_pk
  t_pk=$(elapsed)
  mkdir -p "$LAB_DIR" "$RUN" "$STATE"
  touch "$LAB_DIR/.smoker-lab"
  save_settings
  ensure_client_keys
  local i h
  for h in "${HOSTS[@]}"; do ensure_host_keys "$h"; done
  write_records

  ensure_bridge
  for i in "${!HOSTS[@]}"; do ensure_netns $((i + 1)) "${HOSTS[$i]}"; done

  if ((LAB_IMAGES)); then
    ensure_registry
    start_builder
    # (see below: /etc/docker/key.json)
    if [[ ! -f /etc/docker/key.json ]]; then wait_engine builder "$BUILDER/docker.sock" builder "$BUILDER/dockerd.log"; fi
  else
    # A lab switched to LAB_IMAGES=0 keeps no registry or builder.
    stop_registry
    stop_builder
  fi

  # Start every engine that is not running, then wait for them all. dockerd 20.10 creates
  # /etc/docker/key.json on first start: let one engine do that alone, not several at once.
  for i in "${!HOSTS[@]}"; do
    h=${HOSTS[$i]}
    if alive "$h.dockerd" && engine_ok "$(host_sock "$h")"; then continue; fi
    stop_host "$h"
    start_host_dockerd $((i + 1)) "$h"
    if [[ ! -f /etc/docker/key.json ]]; then
      wait_engine "$h" "$(host_sock "$h")" "$h.dockerd" "$(host_dir "$h")/dockerd.log"
    fi
  done

  if ((LAB_IMAGES)); then
    wait_engine builder "$BUILDER/docker.sock" builder "$BUILDER/dockerd.log"
    build_images
  fi

  for i in "${!HOSTS[@]}"; do
    h=${HOSTS[$i]}
    wait_engine "$h" "$(host_sock "$h")" "$h.dockerd" "$(host_dir "$h")/dockerd.log"
    set_host_cpu "$h" off
    # Undo freeze/refuse faults, then make sure sshd runs.
    if alive "$h.sshd"; then
      local -a procs=()
      mapfile -t procs < <(sshd_tree "$(recorded_pid "$h.sshd")")
      kill -CONT "${procs[@]}" 2>/dev/null || true
    else
      start_sshd $((i + 1)) "$h"
    fi
  done
  for i in "${!HOSTS[@]}"; do wait_sshd $((i + 1)) "${HOSTS[$i]}"; done
  check_passphrase_key "$(host_ip 1)"

  write_lab_json
  log "lab $LAB_NAME is up (packages checked in ${t_pk}s; total $(elapsed)s)"
  for i in "${!HOSTS[@]}"; do
    printf '  %-12s %-14s ssh root@%s   DOCKER_HOST=unix://%s\n' "${HOSTS[$i]}" "$(host_ip $((i + 1)))" \
      "$(host_ip $((i + 1)))" "$(host_sock "${HOSTS[$i]}")"
  done
  ((LAB_IMAGES)) && echo "  registry     $REGISTRY (images: smoker/backend, smoker/frontend, smoker/db)"
  echo "  lab.json     $LAB_DIR/lab.json"
}

cmd_down() {
  log "lab $LAB_NAME down: dir $LAB_DIR"
  local h f
  # Hosts: the configured ones plus any other host dir left behind.
  local -a hosts=("${HOSTS[@]}")
  for f in "$LAB_DIR"/hosts/*/; do
    [[ -d $f ]] || continue
    h=$(basename "$f")
    [[ " ${hosts[*]} " == *" $h "* ]] || hosts+=("$h")
  done
  # The engines take a second or two each to shut down: stop them all at once.
  local -a jobs=()
  for h in "${hosts[@]}"; do
    stop_host "$h" &
    jobs+=("$!")
  done
  stop_builder &
  jobs+=("$!")
  stop_registry
  for f in "${jobs[@]}"; do wait "$f" || warn "a stop job failed (the sweep below still runs)"; done

  # Sweep: anything still running that belongs to the lab.
  local -a rest=()
  mapfile -t rest < <(lab_processes)
  if ((${#rest[@]})); then
    log "stopping ${#rest[@]} leftover process(es)"
    terminate 5 "${rest[@]}"
  fi

  # Mounts under LAB_DIR in this mount namespace (the hosts' own are gone with their
  # namespaces), deepest first.
  local -a mounts=()
  mapfile -t mounts < <(awk -v d="$LAB_DIR" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print length(m) " " m }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2-)
  for f in "${mounts[@]}"; do
    umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || warn "could not unmount $f"
  done

  # Network: the lab's namespaces, veths, pinned ARP entries, bridge.
  for f in /run/netns/"$LAB_NAME"-*; do
    if [[ -e $f ]]; then ip netns del "$(basename "$f")" 2>/dev/null || warn "could not delete netns $f"; fi
  done
  local link
  while read -r link; do
    if [[ $link =~ ^v${LAB_NAME}h[0-9]+p?$ ]]; then ip link del "$link" 2>/dev/null || true; fi
  done < <(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')
  if [[ -e /sys/class/net/$LAB_NAME ]]; then
    if [[ $(bridge_owner) == "$BRIDGE_ALIAS" || -z $(bridge_owner) ]]; then
      ip link del "$LAB_NAME" 2>/dev/null || warn "could not delete bridge $LAB_NAME"
    else
      warn "bridge $LAB_NAME belongs to another lab ($(bridge_owner)): left alone"
    fi
  fi

  # Container cgroups of the lab's engines (empty now), deepest first.
  for f in /sys/fs/cgroup/*/"$LAB_NAME"-*; do
    if [[ -d $f ]]; then find "$f" -depth -type d -exec rmdir {} + 2>/dev/null || warn "could not remove cgroup $f"; fi
  done

  # The lab dir itself: only if it is a lab dir and nothing is mounted in it any more.
  if [[ -d $LAB_DIR ]]; then
    if [[ ! -f $LAB_DIR/.smoker-lab ]]; then
      warn "$LAB_DIR has no .smoker-lab marker: not deleting it"
    elif grep -qF " $LAB_DIR/" /proc/self/mountinfo; then
      warn "mounts remain under $LAB_DIR: not deleting it"
    else
      rm -rf --one-file-system "$LAB_DIR"
    fi
  fi
  log "lab $LAB_NAME is down ($(elapsed)s)"
}

cmd_status() {
  local n_up=0 n_down=0
  report() { # component state(up|down|...) note
    printf '%-24s %s\n' "$1" "$2${3:+ ($3)}"
    if [[ $2 == up ]]; then n_up=$((n_up + 1)); else n_down=$((n_down + 1)); fi
  }
  if [[ -d /sys/class/net/$LAB_NAME/bridge ]] && ip -o addr show dev "$LAB_NAME" | grep -F "inet $GW/24" >/dev/null; then
    report "bridge $LAB_NAME" up "$GW/24"
  else
    report "bridge $LAB_NAME" down
  fi
  if ((LAB_IMAGES)); then
    if alive registry && tcp_open "$GW" "$LAB_REGISTRY_PORT"; then report registry up "$REGISTRY"; else report registry down; fi
    if alive builder && engine_ok "$BUILDER/docker.sock"; then report builder up; else report builder down; fi
  else
    printf '%-24s %s\n' registry "skipped (LAB_IMAGES=0)" builder "skipped (LAB_IMAGES=0)"
  fi
  local i h ns note p
  for i in "${!HOSTS[@]}"; do
    h=${HOSTS[$i]} ns=$(host_ns "$h")
    note=""
    if [[ -e /run/netns/$ns ]] && ip -n "$ns" -o addr show 2>/dev/null | grep -F "inet $(host_ip $((i + 1)))/24" >/dev/null; then
      [[ $(cat "/sys/class/net/$(veth_br $((i + 1)))/operstate" 2>/dev/null) == up ]] || note="partitioned"
      report "$h netns" up "$(host_ip $((i + 1)))${note:+, $note}"
    else
      report "$h netns" down
    fi
    if alive "$h.dockerd" && engine_ok "$(host_sock "$h")"; then report "$h dockerd" up; else report "$h dockerd" down; fi
    p=$(recorded_pid "$h.sshd")
    if ours "$p"; then
      [[ $(proc_state "$p") == T ]] && note="frozen" || note=""
      report "$h sshd" up "$note"
    else
      report "$h sshd" down
    fi
  done
  if ((n_down == 0)); then echo "lab $LAB_NAME: up"; return 0; fi
  if ((n_up == 0)); then echo "lab $LAB_NAME: down"; return 3; fi
  echo "lab $LAB_NAME: partly up ($n_up up, $n_down down)"
  return 1
}

need_up() { [[ -f $LAB_DIR/.smoker-lab ]] || die "there is no lab in $LAB_DIR: run \`lab.sh up\` first"; }

cmd_fault() {
  local what=$1 h=${2:-} i ip p
  case $what in
  registry-stop)
    ((LAB_IMAGES)) || die "this lab has no registry (LAB_IMAGES=0)"
    stop_registry
    log "registry stopped"
    return
    ;;
  registry-start)
    ((LAB_IMAGES)) || die "this lab has no registry (LAB_IMAGES=0)"
    ensure_registry
    return
    ;;
  esac
  [[ -n $h ]] || die "$what needs a HOST (one of: ${HOSTS[*]})"
  i=$(host_index "$h")
  ip=$(host_ip "$i")
  need_up
  case $what in
  partition)
    # Pin the host's ARP entry first: with the port down, an ARP miss would make
    # connects fail fast with "no route to host"; pinned, packets just vanish.
    local mac
    mac=$(ip -n "$(host_ns "$h")" link show dev "$(veth_ns "$i")" | awk '/link\/ether/ { print $2 }')
    [[ -n $mac ]] || die "$h: cannot read its MAC address"
    ip neigh replace "$ip" lladdr "$mac" dev "$LAB_NAME" nud permanent
    ip link set "$(veth_br "$i")" down
    log "$h: partitioned ($ip is a blackhole)"
    ;;
  heal)
    ip link set "$(veth_br "$i")" up
    unpin_arp "$ip"
    log "$h: healed"
    ;;
  refuse)
    stop_sshd "$h"
    log "$h: sshd stopped (connections to $ip:22 are refused)"
    ;;
  accept)
    if ! alive "$h.sshd"; then start_sshd "$i" "$h"; fi
    wait_sshd "$i" "$h"
    ;;
  freeze | thaw)
    p=$(recorded_pid "$h.sshd")
    ours "$p" || die "$h: sshd is not running"
    local -a procs=()
    mapfile -t procs < <(sshd_tree "$p")
    if [[ $what == freeze ]]; then
      kill -STOP "${procs[@]}" 2>/dev/null || true
      log "$h: froze ${#procs[@]} sshd process(es), the listener included"
    else
      kill -CONT "${procs[@]}" 2>/dev/null || true
      log "$h: thawed ${#procs[@]} sshd process(es)"
    fi
    ;;
  rotate-key)
    local hd
    hd=$(host_dir "$h")
    rm -f "$hd/ssh_host_ed25519_key" "$hd/ssh_host_ed25519_key.pub"
    ensure_host_keys "$h"
    stop_sshd "$h"
    write_records
    start_sshd "$i" "$h"
    wait_sshd "$i" "$h"
    write_lab_json
    log "$h: new host key $(ssh-keygen -lf "$hd/ssh_host_ed25519_key.pub" | cut -d' ' -f2)"
    ;;
  *) die "unknown fault '$what'" ;;
  esac
}

# The host's CPU cap, in the cgroup v1 cpu controller: its engine already puts the containers
# under /$LAB_NAME-HOST (--cgroup-parent); the engine, containerd and sshd join it here, and
# what they start later (shims, ssh sessions) inherits it. CFS bandwidth is hierarchical, so
# the quota bounds the whole host. "off" lifts it.
set_host_cpu() {
  local h=$1 cores=$2 root=/sys/fs/cgroup/cpu cg quota p
  cg=$root/$LAB_NAME-$h
  if [[ $cores == off ]]; then
    [[ -f $cg/cpu.cfs_quota_us ]] && echo -1 >"$cg/cpu.cfs_quota_us"
    return 0
  fi
  [[ -d $root ]] || die "cpu: no cgroup v1 cpu controller at $root"
  [[ $cores =~ ^[0-9]*\.?[0-9]+$ ]] || die "cpu: CORES must be a number such as 0.3 (or off), not '$cores'"
  quota=$(awk -v c="$cores" 'BEGIN { printf "%d", c * 100000 }')
  ((quota >= 1000)) || die "cpu: CORES must be at least 0.01"
  mkdir -p "$cg"
  echo 100000 >"$cg/cpu.cfs_period_us"
  echo "$quota" >"$cg/cpu.cfs_quota_us"
  while IFS= read -r p; do
    # Containers are in their own cgroups below $cg already: leave them there.
    grep -q "^[0-9]*:cpu[,:].*/$LAB_NAME-$h\(/\|$\)" "/proc/$p/cgroup" 2>/dev/null && continue
    echo "$p" >"$cg/cgroup.procs" 2>/dev/null || true
  done < <(lab_processes "$h")
  log "$h: capped at $cores CPU"
}

main() {
  local cmd=${1:-help}
  [[ $cmd == help || $cmd == -h || $cmd == --help ]] && { usage; return 0; }
  ((EUID == 0)) || die "run as root"

  LAB_DIR=${LAB_DIR:-/tmp/smoker-lab}
  LAB_DIR=${LAB_DIR%/}
  LAB_NAME=${LAB_NAME:-lab0}
  LAB_NET=${LAB_NET:-231}
  LAB_HOSTS=${LAB_HOSTS:-dev-cloud prod-cloud smoker-pi}
  LAB_IMAGES=${LAB_IMAGES:-1}
  LAB_REGISTRY_PORT=${LAB_REGISTRY_PORT:-5000}
  # Everything but `up` acts on the lab as it was built.
  [[ $cmd == up ]] || load_saved_settings
  derive
  validate

  # One command at a time changes a lab: up, down and the fault switches take its lock.
  case $cmd in
  up | down | partition | heal | refuse | accept | freeze | thaw | rotate-key | registry-stop | registry-start | cpu)
    mkdir -p /run/lock
    exec 9>"/run/lock/smoker-lab-$LAB_NAME.lock"
    flock -w 900 9 || die "another lab.sh holds /run/lock/smoker-lab-$LAB_NAME.lock"
    ;;
  esac

  case $cmd in
  install) ensure_packages ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status)
    local rc=0
    cmd_status || rc=$? # (status is read-only: set -e is not needed inside it)
    exit "$rc"
    ;;
  pids)
    local f
    for f in "$RUN"/*.pid; do
      [[ -f $f ]] && echo "$(basename "$f" .pid) $(cat "$f")"
    done
    return 0
    ;;
  env)
    [[ -n ${2:-} ]] || die "env needs a HOST"
    host_index "$2" >/dev/null
    echo "export DOCKER_HOST=unix://$(host_sock "$2")"
    ;;
  ssh)
    [[ -n ${2:-} ]] || die "ssh needs a HOST"
    local ip
    ip=$(host_ip "$(host_index "$2")")
    shift 2
    local rc=0
    lab_ssh "$ip" "$@" || rc=$? # the remote command's status, without the ERR trap's note
    exit "$rc"
    ;;
  partition | heal | refuse | accept | freeze | thaw | rotate-key | registry-stop | registry-start)
    cmd_fault "$cmd" "${2:-}"
    ;;
  cpu)
    [[ -n ${2:-} && -n ${3:-} ]] || die "cpu needs a HOST and CORES (e.g. 0.3, or off)"
    host_index "$2" >/dev/null
    need_up
    set_host_cpu "$2" "$3"
    ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
