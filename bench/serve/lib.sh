# lib.sh: what the loopback scripts of this directory share; sourced, not run.

# need_tools TOOL...: installs the TOOLs not on PATH with apt-get (needs root).
need_tools() {
  local need=() t
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || need+=("$t"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# set_pinning PIN: with PIN auto and 2+ CPUs, sets server_pin and wrk_pin to
# taskset the server onto CPU 0 and wrk onto CPU 1; pinning describes it.
set_pinning() {
  server_pin=() wrk_pin=() pinning="none"
  if [ "$1" = auto ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    server_pin=(taskset -c 0) wrk_pin=(taskset -c 1) pinning="server on CPU 0, wrk on CPU 1"
  fi
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; return 1
}

# median "N N N": the median of the numbers (the lower middle of an even count).
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# wrk_rps SIDE URL: runs wrk (pinned, with $THREADS, $CONNS, $DURATION and
# the headers array) against URL and prints its requests per second; stops
# the script when wrk saw a non-2xx answer or printed no rate.
wrk_rps() {
  local side=$1 url=$2 out r
  out=$("${wrk_pin[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "${headers[@]}" "$url")
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "$side: wrk saw non-2xx answers, so its figure would not compare:" >&2
    echo "$out" >&2
    exit 1
  fi
  grep 'Socket errors' <<<"$out" | sed "s/^/$side: /" >&2 || true
  r=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  if [ -z "$r" ]; then
    echo "$side: no Requests/sec in wrk's output:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$r"
}

# setup_work NAME: makes the work directory $work (removed on exit, after
# stopping the server whose pid is in $pid), builds stampfs and peer into
# it, writes the fixture into $dir and reads the benchmark's request headers
# into the array headers (for wrk's and curl's -H). Needs $root and $bench.
setup_work() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/stampfs-$1.XXXXXX")
  chmod 755 "$work" # an nginx worker runs as nobody and must reach the files
  pid=""
  trap cleanup EXIT
  echo "building stampfs and the peer servers" >&2
  (cd "$root" && go build -o "$work/stampfs" ./cmd/stampfs)
  (cd "$bench" && go build -o "$work/peer" ./serve/cmd/peer)
  dir="$work/static"
  "$work/peer" -fixture "$dir"
  chmod -R a+rX "$dir"
  asset=css/app.css # serve.Asset
  # Read the headers apart from the loop, so that set -e stops the script if
  # peer fails rather than measuring every side without them.
  local header_lines h
  header_lines=$("$work/peer" -headers)
  headers=()
  while IFS= read -r h; do headers+=(-H "$h"); done <<<"$header_lines"
}

cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
