#!/usr/bin/env bash
# loopback.sh: requests per second over loopback for a GET of the same 4 KB
# stamped asset from `stampfs serve`, http.FileServerFS, hashfs, a bare
# http.ServeContent from memory, and nginx serving it from its version, each
# in turn in one run, with the ratios of stampfs to each and of nginx through
# the printed locations to nginx with a plain alias.
#
# Usage (any directory):  bash bench/serve/loopback.sh
# Environment:
#   DURATION=5s CONNS=32 THREADS=1   wrk's -d, -c, -t
#   ROUNDS=1       measure every side ROUNDS times, interleaved; print the median
#   PIN=auto       auto: with 2+ CPUs, server on CPU 0 and wrk on CPU 1 (taskset);
#                  off: no pinning
#   SIDES="stampfs fileserver hashfs memory nginx nginx-alias handler"
#                  stampfs is `stampfs serve DIR`; handler is stampfs.New in a bare
#                  http.Server (cmd/peer), which tells the command's overhead apart;
#                  nginx uses the locations `stampfs nginx` prints (straight
#                  from the version store), nginx-alias a bare alias of DIR that
#                  reaches the version through the stamp link, without checks
# Each side's server CPU time per request (user + system, its children
# included) is printed too: on a busy machine it moves far less than
# requests/s do.
# Installs wrk and nginx with apt-get when they are missing (needs root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=$(cd "$here/.." && pwd)
root=$(cd "$bench/.." && pwd)
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-1}
PIN=${PIN:-auto}
SIDES=${SIDES:-stampfs fileserver hashfs memory nginx nginx-alias handler}
export PATH="$PATH:/usr/local/go/bin:/usr/sbin"
for side in $SIDES; do
  case $side in
    stampfs | fileserver | hashfs | memory | nginx | nginx-alias | handler) ;;
    *) echo "SIDES: unknown side '$side'" >&2; exit 2 ;;
  esac
done

source "$here/lib.sh"
need_tools wrk nginx curl
set_pinning "$PIN"

setup_work loopback
logs=()

# check URL: the asset must come back 200 with 4096 bytes, so every side does
# the same work. When it does not, it prints the server's log.
check() {
  local got
  for _ in $(seq 1 100); do
    got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${headers[@]}" "$1" || true)
    [ "$got" = "200 4096" ] && return 0
    sleep 0.1
  done
  echo "GET $1: got '$got', want '200 4096'; the server's log:" >&2
  cat "${logs[@]}" >&2 || true
  return 1
}

# start SIDE PORT: starts the server of SIDE in the background, sets pid, url
# and logs (the files its output goes to).
start() {
  local side=$1 port=$2
  case $side in
    stampfs)
      "${server_pin[@]}" "$work/stampfs" serve -addr "127.0.0.1:$port" -prefix /static/ "$dir" \
        >"$work/stampfs.log" 2>&1 &
      pid=$!
      logs=("$work/stampfs.log")
      url="http://127.0.0.1:$port/static/$("$work/stampfs" stamp "$dir")/$asset"
      ;;
    nginx | nginx-alias)
      nginx_conf "$port" "$side"
      "${server_pin[@]}" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' \
        >"$work/nginx.log" 2>&1 &
      pid=$!
      logs=("$work/nginx.log" "$work/nginx/logs/error.log")
      url="http://127.0.0.1:$port/static/$("$work/stampfs" stamp "$dir")/$asset"
      ;;
    *)
      local name=$side
      [ "$side" = handler ] && name=stampfs
      "${server_pin[@]}" "$work/peer" -side "$name" -addr "127.0.0.1:$port" "$dir" \
        >"$work/peer.out" 2>"$work/peer.log" &
      pid=$!
      logs=("$work/peer.log")
      for _ in $(seq 1 100); do [ -s "$work/peer.out" ] && break; sleep 0.1; done
      url=$(head -n1 "$work/peer.out")
      ;;
  esac
}

# answers URL waits up to 10 s for the server to answer URL, and fails at
# once when the server has exited.
answers() {
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${headers[@]}" "$1" || true)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  rm -f "$work/peer.out"
}

# publish makes the version of $dir's stamp and the link $dir/<stamp> ->
# .stampfs/<stamp>, readable by nginx's workers.
publish() {
  if ! "$work/stampfs" link -q "$dir" >/dev/null 2>"$work/link.log"; then
    cat "$work/link.log" >&2
    return 1
  fi
  chmod -R a+rX "$dir"
}

# nginx_conf PORT SIDE writes a one-worker nginx serving $dir at /static/:
# with the locations `stampfs nginx` prints (SIDE nginx), which serve the
# stamped path from the version store, or with a bare alias of $dir that
# reaches the version through the stamp link (SIDE nginx-alias).
nginx_conf() {
  local port=$1 side=$2 locations
  mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
  publish
  if [ "$side" = nginx ]; then
    locations=$("$work/stampfs" nginx -prefix /static/ "$dir" 2>/dev/null)
  else
    locations="location /static/ {
      alias $dir/;
      add_header Cache-Control \"public, max-age=31536000, immutable\";
    }"
  fi
  cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    $locations
  }
}
EOF
}

# cpu_ticks PID prints the user + system clock ticks that PID and its
# children (nginx's workers) have used.
cpu_ticks() {
  local p t=0
  for p in "$1" $(pgrep -P "$1" || true); do
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo "$t"
}
seconds=${DURATION%s} # wrk's -d in seconds, as this script takes it

declare -A rps cpu
for round in $(seq 1 "$ROUNDS"); do
  for side in $SIDES; do
    # Another process may take the free port before the server binds it
    # (other servers run on this machine): then try another one.
    for _ in 1 2 3 4 5; do
      port=$(free_port)
      start "$side" "$port"
      answers "$url" && break
      grep -qs 'in use' "${logs[@]}" || break
      stop
    done
    check "$url"
    c0=$(cpu_ticks "$pid")
    r=$(wrk_rps "$side" "$url")
    c1=$(cpu_ticks "$pid")
    stop
    us=$(awk -v t=$((c1 - c0)) -v r="$r" -v s="$seconds" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz * 1e6 / (r * s)}')
    echo "round $round  $side  $r req/s  $us µs CPU/request  ($url)" >&2
    rps[$side]="${rps[$side]:-} $r"
    cpu[$side]="${cpu[$side]:-} $us"
  done
done

echo
base_side=""
for b in stampfs handler; do
  case " $SIDES " in *" $b "*) base_side=$b; break ;; esac
done
echo "| side | requests/s | ${base_side:-stampfs} ÷ side | server CPU µs/request |"
echo "|---|---:|---:|---:|"
base=""
[ -n "$base_side" ] && base=$(median "${rps[$base_side]}")
for side in $SIDES; do
  m=$(median "${rps[$side]}")
  ratio="-"
  if [ -n "$base" ] && [ "$side" != "$base_side" ]; then ratio=$(awk -v a="$base" -v b="$m" 'BEGIN {printf "%.2f×", a/b}'); fi
  c="-"
  [ -n "${cpu[$side]:-}" ] && c=$(median "${cpu[$side]}")
  printf '| %s | %.0f | %s | %s |\n' "$side" "$m" "$ratio" "$c"
done
if [[ " $SIDES " == *" nginx "* && " $SIDES " == *" nginx-alias "* ]]; then
  awk -v a="$(median "${rps[nginx]}")" -v b="$(median "${rps[nginx-alias]}")" \
    'BEGIN {printf "\nnginx through the printed locations ÷ nginx with a plain alias: %.2f× requests/s", a/b}'
  awk -v a="$(median "${cpu[nginx]}")" -v b="$(median "${cpu[nginx-alias]}")" \
    'BEGIN {printf ", %.2f× CPU per request\n", a/b}'
fi
echo
echo "wrk -t$THREADS -c$CONNS -d$DURATION, GET of the 4 KB $asset with browser headers; median of $ROUNDS round(s); pinning: $pinning; $(nproc) CPUs"
