#!/usr/bin/env bash
# versions.sh: requests per second over loopback for a GET of the 4 KB
# css/app.css from one `stampfs serve DIR`, at the stamp of an OLD version
# of DIR (served from the version store) and at the current stamp, measured
# alternately against the same server, with the ratio old ÷ current.
#
# DIR holds two versions: `stampfs link` of the fixture of loopback.sh, then
# `stampfs link` again after css/app.css got other bytes of the same size.
#
# Usage (any directory):  bash bench/serve/versions.sh
# Environment:
#   DURATION=5s CONNS=32 THREADS=1   wrk's -d, -c, -t
#   ROUNDS=3       measure both stamps ROUNDS times, alternating (which goes
#                  first swaps every round); print the medians
#   PIN=auto       auto: with 2+ CPUs, server on CPU 0 and wrk on CPU 1 (taskset);
#                  off: no pinning
#   CHECK=0        1: exit with status 1 when old ÷ current is below the target
# Installs wrk and curl with apt-get when they are missing (needs root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=$(cd "$here/.." && pwd)
root=$(cd "$bench/.." && pwd)
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
PIN=${PIN:-auto}
CHECK=${CHECK:-0}
target=0.9 # the old version's rate at least 0.9× the current stamp's
export PATH="$PATH:/usr/local/go/bin:/usr/sbin"

source "$here/lib.sh"
need_tools wrk curl
set_pinning "$PIN"

setup_work versions

# Two versions: the fixture, then the fixture with other bytes of the same
# size in the asset (letters swapped, still CSS).
old=$("$work/stampfs" link -q "$dir")
tr 'aeo' 'eoa' <"$dir/$asset" >"$work/app.css"
cat "$work/app.css" >"$dir/$asset"
cur=$("$work/stampfs" link -q "$dir")
if [ "$old" = "$cur" ]; then
  echo "the second link made no new version ($cur)" >&2
  exit 1
fi

port=$(free_port)
"${server_pin[@]}" "$work/stampfs" serve -addr "127.0.0.1:$port" -prefix /static/ "$dir" \
  >"$work/serve.log" 2>&1 &
pid=$!
url_old="http://127.0.0.1:$port/static/$old/$asset"
url_cur="http://127.0.0.1:$port/static/$cur/$asset"

# check URL FILE: the asset must come back 200 with FILE's 4096 bytes, so
# each stamp serves its own version's bytes and both do the same work.
check() {
  local got
  for _ in $(seq 1 100); do
    got=$(curl -s -o "$work/got" -w '%{http_code} %{size_download}' "${headers[@]}" "$1" || true)
    if [ "$got" = "200 4096" ] && cmp -s "$work/got" "$2"; then return 0; fi
    sleep 0.1
  done
  echo "GET $1: got '$got', want '200 4096' with the bytes of $2; the server's log:" >&2
  cat "$work/serve.log" >&2
  return 1
}
cp "$dir/.stampfs/$old/$asset" "$work/old.css"
check "$url_cur" "$work/app.css"
check "$url_old" "$work/old.css"
if cmp -s "$work/old.css" "$work/app.css"; then
  echo "the two versions hold the same asset" >&2
  exit 1
fi

declare -A rps
measure() {
  local r
  r=$(wrk_rps "$1" "$2")
  echo "round $round  $1  $r req/s  ($2)" >&2
  rps[$1]="${rps[$1]:-} $r"
}
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then
    measure old "$url_old"
    measure current "$url_cur"
  else
    measure current "$url_cur"
    measure old "$url_old"
  fi
done

m_old=$(median "${rps[old]}")
m_cur=$(median "${rps[current]}")
ratio=$(awk -v a="$m_old" -v b="$m_cur" 'BEGIN {printf "%.2f", a/b}')
verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN {print (r >= t) ? "ok" : "MISSED"}')

echo
echo "| stamp | requests/s | old ÷ current |"
echo "|---|---:|---:|"
printf '| current (%s) | %.0f | - |\n' "$cur" "$m_cur"
printf '| old (%s) | %.0f | %s× (target ≥ %s: %s) |\n' "$old" "$m_old" "$ratio" "$target" "$verdict"
echo
echo "one stampfs serve DIR with two versions; wrk -t$THREADS -c$CONNS -d$DURATION, GET of the 4 KB $asset with browser headers; median of $ROUNDS alternating round(s); pinning: $pinning; $(nproc) CPUs"
if [ "$CHECK" = 1 ] && [ "$verdict" != ok ]; then exit 1; fi
