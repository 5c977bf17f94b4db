#!/usr/bin/env bash
# The demo: the scenario bpfstub exists for.  A Go HTTP server runs; bpfstub
# attaches; GDB puts a tracepoint on main.computeE collecting its argument,
# starts the trace, several HTTP requests come in (each answered on time),
# GDB stops the trace and tdumps every frame: one per request, in order.
# Then LLDB traces the same service by name through monitor commands:
# arguments, return values and latency, typed by the program's DWARF.
# Meanwhile every thread's state is sampled: none is ever stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

prog=tests/targets/build/goserver
[ -x "$prog" ] && [ -x tests/targets/build/counter ] || make -s -C tests/targets >/dev/null

log=$(mktemp -d)
stub_pid=
target_pid=
trap 'kill $stub_pid $target_pid 2>/dev/null || true; rm -rf "$log"' EXIT

"$prog" 0 >"$log/target.out" &
target_pid=$!
for _ in $(seq 100); do grep -q ready "$log/target.out" 2>/dev/null && break; sleep 0.1; done
http_port=$(awk '/ready/ {print $3}' "$log/target.out")
echo "== Go server: pid $target_pid, http://127.0.0.1:$http_port/e?iterations=N"

./bpfstub --once 127.0.0.1:0 --attach "$target_pid" >"$log/stub.out" 2>"$log/stub.err" &
stub_pid=$!
for _ in $(seq 100); do grep -q Listening "$log/stub.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^Listening on \([^ ]*\).*/\1/p' "$log/stub.out")
echo "== bpfstub:"
sed 's/^/   /' "$log/stub.out"

# Sample every thread's state for the whole session.
(
	stopped=0
	while kill -0 "$target_pid" 2>/dev/null && [ ! -e "$log/done" ]; do
		for s in /proc/"$target_pid"/task/*/stat; do
			st=$(sed 's/.*) \(.\).*/\1/' "$s" 2>/dev/null || true)
			if [ "$st" = t ] || [ "$st" = T ]; then stopped=$((stopped + 1)); fi
		done
		tp=$(awk '/TracerPid/ {print $2}' /proc/"$target_pid"/status 2>/dev/null || echo 0)
		if [ "${tp:-0}" != 0 ]; then stopped=$((stopped + 1)); fi
		sleep 0.002
	done
	echo "$stopped" >"$log/stopped"
) &
sampler=$!

cat >"$log/session.gdb" <<GDB
target remote $addr
echo \n--- print 'main.counter' twice, 0.2 s apart (live reads)\n
print 'main.counter'
shell sleep 0.2
print 'main.counter'
echo \n--- trace main.computeE, collect iterations, tstart\n
trace main.computeE
actions
collect iterations
end
tstart
echo \n--- four HTTP requests while tracing\n
shell for n in 5 10 15 20; do r=\$(curl -s -m 5 -w ' (answered in %{time_total} s)' "http://127.0.0.1:$http_port/e?iterations=\$n"); echo "iterations=\$n -> \$r" | tr -d '\n'; echo; done
tstop
echo \n--- tstatus\n
tstatus
echo \n--- tfind / tdump over every frame\n
tfind start
tdump
tfind
tdump
tfind
tdump
tfind
tdump
tfind none
echo \n--- monitor status\n
monitor status
detach
GDB
echo
echo "== GDB session (the server keeps serving the whole time):"
gdb -nx -batch -x "$log/session.gdb" 2>&1 |
	grep -v -e '^warning: File transfers' -e 'from remote target\.\.\.$' -e '^Reading symbols' || true

# The same service from LLDB, which has no tracepoint commands: bpfstub's
# monitor commands (one alias), a tracepoint by name with typed values, and
# return values with each call's latency measured in the kernel.
./bpfstub --once 127.0.0.1:0 --attach "$target_pid" >"$log/stub2.out" 2>"$log/stub2.err" &
stub_pid=$!
for _ in $(seq 100); do grep -q Listening "$log/stub2.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^Listening on \([^ ]*\).*/\1/p' "$log/stub2.out")
echo
echo "== LLDB session (monitor commands: trace by name, -return, tframes, tdump):"
lldb --no-lldbinit --batch \
	-o "command regex bpf 's/(.+)/process plugin packet monitor %1/'" \
	-o "gdb-remote $addr" \
	-o "bpf trace main.computeE" \
	-o "bpf trace -return main.computeE" \
	-o "bpf trace -return main.greet" \
	-o "bpf tstart" \
	-o "platform shell for n in 50 500; do curl -s -m 5 http://127.0.0.1:$http_port/e?iterations=\$n; done; curl -s -m 5 http://127.0.0.1:$http_port/greet?name=lldb" \
	-o "bpf tstop" \
	-o "bpf tframes" \
	-o "bpf tdump 0" \
	-o "bpf tdump 1" \
	-o "bpf tdump 4" \
	-o "process detach" 2>&1 |
	grep -v -e '^  packet: ' -e '^response: ' -e 'embedded_interpreter' -e '^Traceback' \
		-e "^  File \"<string>\"" -e 'has no plugin for the language' || true
touch "$log/done"
wait "$sampler"
n=$(cat "$log/stopped")
echo
echo "== thread-state samples that showed a stopped thread or a tracer: $n"
if [ "$n" = 0 ] && kill -0 "$target_pid"; then
	echo "== the target was never stopped, and runs on."
else
	echo "== FAILED: the target was stopped"
	exit 1
fi
