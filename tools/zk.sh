#!/usr/bin/env bash
# zk.sh - start/stop/manipulate throw-away ZooKeeper servers for zkr tests.
#
# Usage:
#   zk.sh start DIR [--ensemble N [--peers FILE]] [--tls CA_DIR [--client-auth none|want|need]
#               [--key-store FILE] [--plaintext]]
#                                   create DIR (must not exist or be empty), start one
#                                   standalone server (or an N-node ensemble) on free
#                                   127.0.0.1 ports, wait until it serves, print the
#                                   connect string on stdout. Exit 1 on failure (the
#                                   server logs' tails go to stderr, DIR is removed).
#                                   --peers FILE: each server reaches the others where FILE
#                                   says, one line "I J QUORUM_PORT ELECTION_PORT" per pair:
#                                   server I's zoo.cfg lists server J at 127.0.0.1 on those
#                                   ports (a proxy that forwards to J's own ports, which are in
#                                   DIR/J/quorum_port and DIR/J/election_port once chosen), and
#                                   lists itself at 0.0.0.0 (see write_peer_lines).
#                                   --tls CA_DIR: every server gets a secureClientPort instead
#                                   of its clientPort (Netty connection factory, TLS), with the
#                                   PEM key store CA_DIR/server.pem and the PEM trust store
#                                   CA_DIR/ca.pem (as tools/test-ca.sh writes them; copied,
#                                   with the client certificate, to DIR/tls), and the printed
#                                   connect string names the secure ports.
#                                   --client-auth: ssl.clientAuth (default none).
#                                   --key-store FILE: that key store instead of server.pem (a
#                                   certificate from another CA, expired, for another host...).
#                                   --plaintext: keep the plaintext clientPort open as well
#                                   (`hosts DIR` names it). The script's own four-letter words
#                                   then use the plaintext port; on a TLS-only server they go
#                                   through `openssl s_client` with CA_DIR/client.pem and
#                                   client.key. Needs /usr/share/java/netty-codec.jar and
#                                   netty-resolver.jar (libnetty-java): zookeeper.jar's manifest
#                                   omits them, and without them every TLS handshake fails.
#   zk.sh stop DIR                  SIGCONT+SIGTERM every server (SIGKILL after 10 s),
#                                   then remove DIR. Idempotent, never fails.
#   zk.sh kill DIR N                SIGKILL server N and wait until it is gone.
#   zk.sh restart DIR N             start server N again (same zoo.cfg, same data),
#                                   wait until it serves, update DIR/N/pid.
#   zk.sh pause DIR N               SIGSTOP server N.
#   zk.sh resume DIR N              SIGCONT server N.
#   zk.sh leader DIR                print N of the server whose srvr says
#                                   "Mode: leader" (or "Mode: standalone"); exit 1 if none.
#   zk.sh mntr DIR [N]              print the "mntr" four-letter-word output of server N (default 1).
#   zk.sh hosts DIR [--secure]      print DIR/hosts (the plaintext connect string), or with
#                                   --secure DIR/secure_hosts (the TLS one).
#
# Layout of DIR:
#   DIR/hosts                       connect string, e.g. 127.0.0.1:23456 or
#                                   127.0.0.1:a,127.0.0.1:b,127.0.0.1:c
#   DIR/secure_hosts                connect string of the secure ports (with --tls)
#   DIR/N/{port,pid,zoo.cfg,server.log,data/}   for N=1 (standalone) or N=1..N (port: the
#                                   plaintext client port, absent on a TLS-only server)
#   DIR/N/{quorum_port,election_port}           for an ensemble
#   DIR/N/secure_port               the secure client port (with --tls)
#   DIR/tls/{ca.pem,server.pem,client.pem,client.key,client_auth}   with --tls
#
# Environment (optional):
#   ZK_JAVA        java binary (default: java)
#   ZK_CLASSPATH   default /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar
#                  (a TLS server's gets the Netty jars above appended)
#   ZK_JAVA_OPTS   extra JVM options (word-split)
#   ZK_PORT_MIN, ZK_PORT_MAX   range for random ports (default 20000-60000 minus the
#                  kernel's ephemeral range, i.e. 20000-32767 on a default Linux)
#
# Servers run detached (setsid, own session, stdin /dev/null, stdout+stderr to
# DIR/N/server.log), so they survive this script; DIR/N/pid is the java PID itself.
set -euo pipefail

ZK_JAVA=${ZK_JAVA:-java}
ZK_CLASSPATH=${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}
MARKER=.zk.sh-dir            # marks a DIR created by "zk.sh start"; "stop" only removes such dirs
PORT_MIN=${ZK_PORT_MIN:-20000}
PORT_MAX=${ZK_PORT_MAX:-60000}
START_ATTEMPTS=4
TLS_JARS=(/usr/share/java/netty-codec.jar /usr/share/java/netty-resolver.jar)

die() { echo "zk.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
now_ms() { local s; s=$(date +%s%N); echo $((s / 1000000)); }

# --- process helpers -------------------------------------------------------

# alive PID: process exists and is not a zombie.
alive() {
  local pid=$1 state
  [[ -n $pid && -r /proc/$pid/status ]] || return 1
  state=$(awk '/^State:/ {print $2; exit}' "/proc/$pid/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# ours DIR N: prints the recorded PID of server N if that process is alive and really
# is the java started with DIR/N/zoo.cfg (guards against recycled PIDs).
ours() {
  local dir=$1 n=$2 pid
  [[ -f $dir/$n/pid ]] || return 1
  pid=$(<"$dir/$n/pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/$n/zoo.cfg" || return 1
  echo "$pid"
}

# wait_dead PID SECONDS: wait until PID is gone or a zombie.
wait_dead() {
  local pid=$1 deadline=$(( $(now_ms) + $2 * 1000 ))
  while alive "$pid"; do
    (( $(now_ms) < deadline )) || return 1
    sleep 0.05
  done
}

# terminate PID: SIGCONT, SIGTERM, wait 10 s, SIGKILL.
terminate() {
  local pid=$1
  alive "$pid" || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_dead "$pid" 10; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_dead "$pid" 10 || echo "zk.sh: warning: pid $pid did not die" >&2
  fi
}

# --- ports -----------------------------------------------------------------

# used_ports: local ports of all TCP sockets except TIME-WAIT ones (ZooKeeper binds
# with SO_REUSEADDR, so TIME-WAIT leftovers don't block it), one per line.
used_ports() {
  ss -Htan exclude time-wait 2>/dev/null | awk '{n = split($4, a, ":"); print a[n]}' | sort -u
}

# pick_ports COUNT: print COUNT distinct random free ports, space separated.
# Uses a snapshot of `ss` when available, else probes 127.0.0.1 with bash's /dev/tcp.
pick_ports() {
  local count=$1 p tries=0 use_ss=0 used=" " elo=0 ehi=-1
  local -a got=()
  # Unless a range was given explicitly, avoid the kernel's ephemeral port range
  # (outgoing connections could grab a port before a server binds it, e.g. the
  # quorum port, which is bound only when that server becomes leader), as long
  # as enough of 20000-60000 remains.
  if [[ -z ${ZK_PORT_MIN:-}${ZK_PORT_MAX:-} && -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r elo ehi </proc/sys/net/ipv4/ip_local_port_range || true
    if (( (PORT_MAX - PORT_MIN + 1) - ( (ehi < PORT_MAX ? ehi : PORT_MAX) - (elo > PORT_MIN ? elo : PORT_MIN) + 1 ) < 2000 )); then
      elo=0 ehi=-1
    fi
  fi
  if command -v ss >/dev/null 2>&1; then
    use_ss=1
    used+="$(used_ports | tr '\n' ' ')"
  fi
  while (( ${#got[@]} < count )); do
    if (( ++tries > 5000 )); then
      echo "zk.sh: could not find $count free ports in $PORT_MIN-$PORT_MAX" >&2
      return 1
    fi
    p=$(( ((RANDOM << 15) | RANDOM) % (PORT_MAX - PORT_MIN + 1) + PORT_MIN ))
    (( p >= elo && p <= ehi )) && continue
    [[ " ${got[*]-} " == *" $p "* ]] && continue
    if (( use_ss )); then
      [[ $used == *" $p "* ]] && continue
    else
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    fi
    got+=("$p")
  done
  echo "${got[*]}"
}

# --- server helpers --------------------------------------------------------

has_tls() { [[ -d $1/tls ]]; }

# server_classpath DIR: the servers' class path. Netty's TLS handler needs netty-codec and
# netty-resolver, which zookeeper.jar's manifest does not list.
server_classpath() {
  local cp=$ZK_CLASSPATH jar
  if has_tls "$1"; then
    for jar in "${TLS_JARS[@]}"; do cp+=":$jar"; done
  fi
  echo "$cp"
}

declare -A LOG_OFF=()   # N -> size of DIR/N/server.log before the last launch

# launch DIR N [append]: start server N detached, record its pid.
launch() {
  local dir=$1 n=$2 append=${3:-} pid
  local -a opts=()
  # shellcheck disable=SC2206
  [[ -n ${ZK_JAVA_OPTS:-} ]] && opts=($ZK_JAVA_OPTS)
  [[ -n $append ]] || : >"$dir/$n/server.log"
  LOG_OFF[$n]=$(stat -c %s "$dir/$n/server.log")
  (
    # Don't leak the caller's extra fds (e.g. a pipe a test harness waits on).
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if (( fd > 2 )); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    cd "$dir/$n"
    # No job control here, so this subshell is not a process group leader and
    # setsid(1) calls setsid() and execs java in place: $! is the java PID.
    exec setsid "$ZK_JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Dorg.slf4j.simpleLogger.defaultLogLevel=warn "${opts[@]}" \
      -cp "$(server_classpath "$dir")" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/$n/zoo.cfg"
  ) </dev/null >>"$dir/$n/server.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/$n/pid"
}

# four_letter DIR N WORD: server N's answer to a four-letter word (empty if not reachable), over
# its plaintext port, or over TLS on a TLS-only server (with the client certificate, which a
# server with ssl.clientAuth=need asks for; the server's own certificate is not checked here:
# tests start servers with bad ones on purpose).
four_letter() {
  local dir=$1 n=$2 word=$3
  if [[ -f $dir/$n/port ]]; then
    echo "$word" | nc -N -w 2 127.0.0.1 "$(<"$dir/$n/port")" 2>/dev/null || true
    return 0
  fi
  # -quiet implies -ign_eof: s_client reads on until the server closes after its answer.
  echo "$word" | timeout 3 openssl s_client -quiet -connect "127.0.0.1:$(<"$dir/$n/secure_port")" \
    -cert "$dir/tls/client.pem" -key "$dir/tls/client.key" 2>/dev/null || true
}

# serving DIR N ENSEMBLE(0/1): 0 if server N answers srvr as a serving server.
serving() {
  local out
  out=$(four_letter "$1" "$2" srvr)
  [[ $out == "Zookeeper version"* ]] || return 1
  if [[ $3 == 1 ]]; then
    grep -qE '^Mode: (leader|follower)' <<<"$out" || return 1
  fi
}

server_count() {
  local dir=$1 n=0
  while [[ -f $dir/$((n + 1))/zoo.cfg ]]; do n=$((n + 1)); done
  echo "$n"
}

is_ensemble() { grep -q '^server\.' "$1/1/zoo.cfg" 2>/dev/null; }

dump_logs() {
  local dir=$1 n
  for n in "$@"; do
    [[ $n == "$dir" ]] && continue
    echo "----- $dir/$n/server.log (tail) -----" >&2
    tail -n 40 "$dir/$n/server.log" >&2 2>/dev/null || true
  done
}

# clash DIR N: server N's log (since its last launch) reports a port bind failure.
clash() {
  tail -c +$(( ${LOG_OFF[$2]:-0} + 1 )) "$1/$2/server.log" 2>/dev/null | grep -q "Address already in use"
}

# wait_serving DIR SECONDS ENSEMBLE N...: 0 = all serve, 1 = timeout/died, 2 = port clash.
wait_serving() {
  local dir=$1 secs=$2 ens=$3; shift 3
  local deadline=$(( $(now_ms) + secs * 1000 )) n pid all
  while :; do
    for n in "$@"; do
      clash "$dir" "$n" && return 2
    done
    all=1
    for n in "$@"; do
      pid=$(<"$dir/$n/pid")
      if ! alive "$pid"; then
        sleep 0.2   # let the log be flushed
        clash "$dir" "$n" && return 2
        echo "zk.sh: server $n (pid $pid) exited" >&2
        return 1
      fi
      serving "$dir" "$n" "$ens" || { all=0; break; }
    done
    (( all )) && return 0
    if (( $(now_ms) >= deadline )); then
      echo "zk.sh: timed out after ${secs}s waiting for server(s) $* in $dir" >&2
      return 1
    fi
    sleep 0.1
  done
}

# write_cfg DIR N CLIENTPORT SECUREPORT [server lines...]: either port may be "" (none).
write_cfg() {
  local dir=$1 n=$2 port=$3 secure=$4; shift 4
  mkdir -p "$dir/$n/data"
  {
    echo "tickTime=200"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$dir/$n/data"
    if [[ -n $port ]]; then
      echo "clientPort=$port"
      echo "clientPortAddress=127.0.0.1"
    fi
    if [[ -n $secure ]]; then
      # Keys ZooKeeper does not know become system properties (zookeeper.serverCnxnFactory...).
      echo "secureClientPort=$secure"
      echo "secureClientPortAddress=127.0.0.1"
      echo "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"
      echo "ssl.keyStore.location=$dir/tls/server.pem"
      echo "ssl.keyStore.type=PEM"
      echo "ssl.trustStore.location=$dir/tls/ca.pem"
      echo "ssl.trustStore.type=PEM"
      echo "ssl.clientAuth=$(<"$dir/tls/client_auth")"
    fi
    echo "maxClientCnxns=0"
    echo "minSessionTimeout=400"
    echo "maxSessionTimeout=60000"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=*"
    echo "forceSync=no"
    if (( $# )); then
      echo "cnxTimeout=1000"
      printf '%s\n' "$@"
    fi
  } >"$dir/$n/zoo.cfg"
  (( $# )) && echo "$n" >"$dir/$n/data/myid"
  [[ -z $port ]] || echo "$port" >"$dir/$n/port"
  [[ -z $secure ]] || echo "$secure" >"$dir/$n/secure_port"
}

# peer_lines N COUNT PEERS_FILE QUORUM_PORTS... ELECTION_PORTS...: the server.M lines of server
# N's zoo.cfg, one per line. Without a PEERS_FILE every server lists the others at their own
# ports. With one, N lists the others where PEERS_FILE says (proxies), and itself at 0.0.0.0: a
# server announces its own election address when it opens an election connection, and the
# server of higher id drops that connection and connects back to the announced address
# (QuorumCnxManager.handleConnection), which would bypass the proxy; a wildcard address is not
# announced (InitialMessage.parse ignores it), so the connection back goes where the other
# server's zoo.cfg says.
peer_lines() {
  local n=$1 count=$2 peers=$3; shift 3
  local -a quorum=("${@:1:count}") election=("${@:count+1:count}")
  local m qp ep i j
  for (( m = 1; m <= count; m++ )); do
    if [[ -z $peers ]]; then
      echo "server.$m=127.0.0.1:${quorum[m-1]}:${election[m-1]}"
    elif (( m == n )); then
      echo "server.$m=0.0.0.0:${quorum[m-1]}:${election[m-1]}"
    else
      read -r qp ep < <(awk -v i="$n" -v j="$m" '$1 == i && $2 == j {print $3, $4; exit}' "$peers") || true
      [[ $qp =~ ^[0-9]+$ && $ep =~ ^[0-9]+$ ]] || { echo "zk.sh: $peers has no ports for $n -> $m" >&2; return 1; }
      echo "server.$m=127.0.0.1:$qp:$ep"
    fi
  done
}

# --- subcommands -----------------------------------------------------------

STARTED_DIR=
start_cleanup() {
  local n pid
  local -a pids=()
  [[ -n $STARTED_DIR ]] || return 0
  for n in "$STARTED_DIR"/[0-9]*; do
    [[ -f $n/pid ]] || continue
    pid=$(<"$n/pid")
    if ! [[ $pid =~ ^[0-9]+$ ]] || ! alive "$pid"; then continue; fi
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  done
  for pid in "${pids[@]}"; do terminate "$pid"; done
}

# install_tls DIR CA_DIR CLIENT_AUTH KEY_STORE: the TLS material the servers (and the script's own
# TLS checks) use, copied to DIR/tls so that restarts do not depend on CA_DIR.
install_tls() {
  local dir=$1 ca_dir=$2 auth=$3 key_store=$4 jar f
  for jar in "${TLS_JARS[@]}"; do
    [[ -r $jar ]] || die "start: --tls needs $jar (Debian package libnetty-java)"
  done
  command -v openssl >/dev/null || die "start: --tls needs openssl (Debian package openssl)"
  mkdir "$dir/tls"
  for f in ca.pem client.pem client.key; do
    [[ -r $ca_dir/$f ]] || die "start: no $ca_dir/$f (make one with tools/test-ca.sh)"
    cp "$ca_dir/$f" "$dir/tls/$f"
  done
  [[ -r $key_store ]] || die "start: no key store $key_store"
  cp "$key_store" "$dir/tls/server.pem"
  echo "$auth" >"$dir/tls/client_auth"
}

cmd_start() {
  local dir=${1:-} count=1 peers= ca_dir= auth=none key_store= plaintext=0
  [[ -n $dir ]] || usage
  shift
  while (( $# )); do
    case $1 in
      --ensemble) [[ $# -ge 2 && $2 =~ ^[0-9]+$ && $2 -ge 1 ]] || usage; count=$2; shift 2 ;;
      --peers) [[ $# -ge 2 && -r $2 ]] || usage; peers=$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2"); shift 2 ;;
      --tls) [[ $# -ge 2 && -d $2 ]] || usage; ca_dir=$(cd "$2" && pwd -P); shift 2 ;;
      --client-auth) [[ $# -ge 2 && $2 =~ ^(none|want|need)$ ]] || usage; auth=$2; shift 2 ;;
      --key-store) [[ $# -ge 2 ]] || usage; key_store=$2; shift 2 ;;
      --plaintext) plaintext=1; shift ;;
      *) usage ;;
    esac
  done
  [[ -z $peers ]] || (( count > 1 )) || usage
  [[ -n $ca_dir || ( $auth == none && -z $key_store && $plaintext == 0 ) ]] || usage
  if [[ -e $dir ]]; then
    [[ -d $dir && -z $(ls -A "$dir") ]] || die "start: $dir exists and is not an empty directory"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  touch "$dir/$MARKER"
  STARTED_DIR=$dir
  # Any failure or interruption from here on: stop what we started, remove DIR.
  trap 'start_cleanup; rm -rf "$STARTED_DIR"' EXIT
  trap 'exit 1' INT TERM HUP
  local tls=0
  if [[ -n $ca_dir ]]; then
    tls=1
    install_tls "$dir" "$ca_dir" "$auth" "${key_store:-$ca_dir/server.pem}"
  else
    plaintext=1
  fi

  local ens=0 secs=20
  (( count > 1 )) && { ens=1; secs=30; }
  local attempt rc n hosts secure_hosts portlist
  # ports: the client ports first, then (ensemble) quorum and election port pairs, then (TLS)
  # the secure ports.
  local -a ports nums=() lines=() client secure
  for (( n = 1; n <= count; n++ )); do nums+=("$n"); done
  for (( attempt = 1; attempt <= START_ATTEMPTS; attempt++ )); do
    portlist=$(pick_ports $(( count * (1 + 2 * ens + tls) ))) || exit 1
    read -ra ports <<<"$portlist"
    client=() secure=()
    for n in "${nums[@]}"; do
      client+=("") secure+=("")
      (( plaintext )) && client[n-1]=${ports[n-1]}
      (( tls )) && secure[n-1]=${ports[count * (1 + 2 * ens) + n - 1]}
    done
    if (( ens )); then
      local -a quorum=() election=()
      for n in "${nums[@]}"; do
        quorum+=("${ports[count + 2*(n-1)]}")
        election+=("${ports[count + 2*(n-1) + 1]}")
      done
    fi
    for n in "${nums[@]}"; do
      lines=()
      if (( ens )); then
        mapfile -t lines < <(peer_lines "$n" "$count" "$peers" "${quorum[@]}" "${election[@]}")
        (( ${#lines[@]} == count )) || exit 1
      fi
      write_cfg "$dir" "$n" "${client[n-1]}" "${secure[n-1]}" "${lines[@]}"
      if (( ens )); then
        echo "${quorum[n-1]}" >"$dir/$n/quorum_port"
        echo "${election[n-1]}" >"$dir/$n/election_port"
      fi
    done
    for n in "${nums[@]}"; do launch "$dir" "$n"; done
    rc=0
    wait_serving "$dir" "$secs" "$ens" "${nums[@]}" || rc=$?
    if (( rc == 0 )); then
      hosts= secure_hosts=
      for n in "${nums[@]}"; do
        hosts+="${hosts:+,}127.0.0.1:${client[n-1]}"
        secure_hosts+="${secure_hosts:+,}127.0.0.1:${secure[n-1]}"
      done
      (( plaintext )) && echo "$hosts" >"$dir/hosts"
      (( tls )) && { echo "$secure_hosts" >"$dir/secure_hosts"; hosts=$secure_hosts; }
      trap - EXIT INT TERM HUP
      echo "$hosts"
      return 0
    fi
    start_cleanup
    if (( rc == 2 && attempt < START_ATTEMPTS )); then
      echo "zk.sh: port clash (attempt $attempt), retrying with other ports" >&2
      for n in "${nums[@]}"; do rm -rf "${dir:?}/$n"; done
      continue
    fi
    dump_logs "$dir" "${nums[@]}"
    exit 1
  done
}

cmd_stop() {
  local dir=${1:-} n pid
  local -a pids=()
  [[ -n $dir ]] || usage
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd -P)
  for n in "$dir"/[0-9]*; do
    n=${n##*/}
    [[ $n =~ ^[0-9]+$ ]] || continue
    if pid=$(ours "$dir" "$n"); then
      kill -CONT "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do terminate "$pid"; done   # waits, SIGKILL after 10 s
  if [[ -e $dir/$MARKER || -z $(ls -A "$dir") ]]; then
    rm -rf "$dir"
  else
    echo "zk.sh: stop: $dir was not created by zk.sh start, not removing it" >&2
  fi
}

check_n() { # DIR N -> absolute DIR on stdout
  local dir=$1 n=$2
  [[ -n $dir && $n =~ ^[0-9]+$ ]] || usage
  [[ -f $dir/$n/zoo.cfg ]] || die "no server $n in $dir"
  cd "$dir" && pwd -P
}

cmd_kill() {
  local dir pid n=${2:-}
  dir=$(check_n "${1:-}" "$n")
  if pid=$(ours "$dir" "$n"); then
    kill -KILL "$pid" 2>/dev/null || true
    wait_dead "$pid" 10 || die "kill: server $n (pid $pid) still alive after 10s"
  fi
}

cmd_restart() {
  local dir pid n=${2:-} ens=0 rc=0 secs=20
  dir=$(check_n "${1:-}" "$n")
  if pid=$(ours "$dir" "$n"); then die "restart: server $n is still running (pid $pid)"; fi
  is_ensemble "$dir" && { ens=1; secs=30; }
  echo "----- restart $(date '+%F %T') -----" >>"$dir/$n/server.log"
  launch "$dir" "$n" append
  wait_serving "$dir" "$secs" "$ens" "$n" || rc=$?
  if (( rc != 0 )); then
    (( rc == 2 )) && echo "zk.sh: restart: server $n: a port is already in use" >&2
    dump_logs "$dir" "$n"
    terminate "$(<"$dir/$n/pid")"
    exit 1
  fi
}

cmd_signal() { # SIG DIR N
  local sig=$1 dir pid n=${3:-}
  dir=$(check_n "${2:-}" "$n")
  pid=$(ours "$dir" "$n") || die "server $n in $dir is not running"
  kill -"$sig" "$pid"
}

# A resumed (SIGCONT) old leader keeps claiming "Mode: leader" for a moment after the
# others elected a new one, and a loaded leader may miss srvr's 2 s answer window;
# unless exactly one server claims leadership, re-ask for up to 10 s.
cmd_leader() {
  local dir=${1:-} n out count deadline pid
  local -a leaders
  [[ -n $dir && -d $dir ]] || usage
  count=$(server_count "$dir")
  deadline=$(( $(now_ms) + 10000 ))
  while :; do
    leaders=()
    for (( n = 1; n <= count; n++ )); do
      pid=$(ours "$dir" "$n") || continue
      # a paused (SIGSTOPped) server can't answer; don't wait 2 s for nc to time out
      [[ $(awk '/^State:/ {print $2; exit}' "/proc/$pid/status" 2>/dev/null) == T ]] && continue
      out=$(four_letter "$dir" "$n" srvr)
      if grep -qE '^Mode: (leader|standalone)' <<<"$out"; then leaders+=("$n"); fi
    done
    if (( ${#leaders[@]} == 1 )); then echo "${leaders[0]}"; return 0; fi
    (( $(now_ms) < deadline )) || break
    sleep 0.2
  done
  if (( ${#leaders[@]} == 0 )); then
    echo "zk.sh: leader: no leader in $dir" >&2
  else
    echo "zk.sh: leader: several servers claim leadership: ${leaders[*]}" >&2
  fi
  exit 1
}

cmd_mntr() {
  local dir n=${2:-1} out
  dir=$(check_n "${1:-}" "$n")
  # A loaded server now and then closes a four-letter-word connection without an answer.
  local attempt
  for attempt in 1 2 3 4 5; do
    out=$(four_letter "$dir" "$n" mntr)
    [[ $out == *zk_version* ]] && break
    sleep 0.05
  done
  [[ $out == *zk_version* ]] || die "mntr: no answer from server $n"
  printf '%s\n' "$out"
}

cmd_hosts() {
  local file=hosts
  [[ -n ${1:-} ]] || usage
  case ${2:-} in
    "") ;;
    --secure) file=secure_hosts ;;
    *) usage ;;
  esac
  [[ -f $1/$file ]] || die "no $1/$file"
  cat "$1/$file"
}

main() {
  local cmd=${1:-}
  (( $# )) && shift
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    kill) cmd_kill "$@" ;;
    restart) cmd_restart "$@" ;;
    pause) cmd_signal STOP "$@" ;;
    resume) cmd_signal CONT "$@" ;;
    leader) cmd_leader "$@" ;;
    mntr) cmd_mntr "$@" ;;
    hosts) cmd_hosts "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
  esac
}

main "$@"
