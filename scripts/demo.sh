#!/usr/bin/env bash
# The demo: launch a real multi-threaded program, serve it with bpfstub, and
# read its live state from GDB while it keeps running.  It also samples the
# program's thread states the whole time and shows that none was ever
# stopped (no 't'/'T' state, TracerPid 0).
set -euo pipefail
cd "$(dirname "$0")/.."

prog=tests/targets/build/counter
[ -x "$prog" ] || make -s -C tests/targets >/dev/null

log=$(mktemp -d)
trap 'kill $stub_pid $target_pid 2>/dev/null || true; rm -rf "$log"' EXIT

"$prog" >"$log/target.out" &
target_pid=$!
for _ in $(seq 50); do grep -q ready "$log/target.out" 2>/dev/null && break; sleep 0.1; done

./bpfstub --once 127.0.0.1:0 --attach "$target_pid" >"$log/stub.out" 2>"$log/stub.err" &
stub_pid=$!
for _ in $(seq 50); do grep -q Listening "$log/stub.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^Listening on \([^ ]*\).*/\1/p' "$log/stub.out")
echo "== bpfstub is serving pid $target_pid on $addr:"
sed 's/^/   /' "$log/stub.out"

# Sample every thread's state while GDB works.
( stopped=0
  while kill -0 "$target_pid" 2>/dev/null && [ ! -e "$log/done" ]; do
	for s in /proc/"$target_pid"/task/*/stat; do
		st=$(sed 's/.*) \(.\).*/\1/' "$s" 2>/dev/null || true)
		[ "$st" = t ] || [ "$st" = T ] && stopped=$((stopped + 1))
	done
	tp=$(awk '/TracerPid/ {print $2}' /proc/"$target_pid"/status 2>/dev/null || echo 0)
	[ "${tp:-0}" != 0 ] && stopped=$((stopped + 1))
	sleep 0.002
  done
  echo "$stopped" >"$log/stopped" ) &
sampler=$!

echo
echo "== GDB session (the program keeps running the whole time):"
gdb -nx -batch \
	-ex "target remote $addr" \
	-ex 'echo \n--- info threads\n' -ex 'info threads' \
	-ex 'echo \n--- print counter, twice, 0.3 s apart: it advances\n' \
	-ex 'print counter' -ex 'shell sleep 0.3' -ex 'print counter' \
	-ex 'echo \n--- print message\n' -ex 'print message' \
	-ex 'echo \n--- monitor status\n' -ex 'monitor status' \
	-ex 'detach' 2>&1 | grep -v -e '^warning: File transfers' -e 'from remote target\.\.\.$'
touch "$log/done"
wait "$sampler"
echo
echo "== thread-state samples that showed a stopped thread or a tracer: $(cat "$log/stopped")"
[ "$(cat "$log/stopped")" = 0 ] && echo "== the target was never stopped; it runs on: pid $target_pid is $(sed 's/.*) \(.\).*/\1/' /proc/$target_pid/stat)"
