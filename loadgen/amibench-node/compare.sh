#!/bin/sh
# compare.sh runs the AMI parser comparison of docs/performance.md: this
# repository's ami.Reader, the bare scan for "\r\n\r\n", net/textproto and
# the npm package asterisk-manager, on the same recorded streams, ROUNDS
# times, interleaved (one round of every parser, then the next), each on
# one core, and prints the median of each as one table.
#
# asterisk-manager is installed, at a pinned version, into a temporary
# folder that is removed on exit: it is a benchmark tool, never a
# dependency of the product. Needs go, node and npm (and the npm registry,
# or a cache that holds the package).
#
# Usage: loadgen/amibench-node/compare.sh [ROUNDS]   (from the repository root)
set -eu

rounds=${1:-10}
version=0.2.0 # asterisk-manager, the latest release when this was written
here=$(dirname "$0")
traces="asterisk-22.10.1/o_bench_burst.ami asterisk-1.8.32.3-sip/c_queue_answered.ami asterisk-20.20.1-sip/l_busy.ami"
# The same list as compareTraces in cti/ami/compare_bench_test.go.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
npm install --silent --no-audit --no-fund --prefix "$tmp/npm" "asterisk-manager@$version" >/dev/null
go test -c -o "$tmp/ami.test" ./cti/ami

paths=""
for t in $traces; do paths="$paths testdata/ami-traces/$t"; done

echo "machine: $(nproc) CPUs, $(uname -sm), $(go version | cut -d' ' -f3), node $(node --version), asterisk-manager $version" >&2
i=1
while [ "$i" -le "$rounds" ]; do
	echo "round $i/$rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	(cd cti/ami && GOMAXPROCS=1 "$tmp/ami.test" -test.run '^$' -test.bench '^BenchmarkCompare$' -test.benchtime 1s) >>"$tmp/out"
	# shellcheck disable=SC2086 # paths is a list
	taskset -c 0 node "$here/bench.js" "$tmp/npm" $paths >>"$tmp/out" 2>/dev/null ||
		node "$here/bench.js" "$tmp/npm" $paths >>"$tmp/out"
	i=$((i + 1))
done
cp "$tmp/out" "${BENCH_OUT:-/dev/null}"

# One row per trace and parser: the median msgs/s over the rounds, and its
# ratio to the bare scan's median on the same trace.
awk '
/^BenchmarkCompare\// {
	for (f = 1; f < NF; f++) if ($(f+1) == "msgs/s") v = $f
	name = $1; sub(/^BenchmarkCompare\//, "", name); sub(/-[0-9]+$/, "", name)
	n = split(name, p, "/"); parser = p[n]; trace = p[1] "/" p[2]
	key = trace SUBSEP parser
	vals[key, ++cnt[key]] = v
	if (!(trace in seen)) { seen[trace] = 1; order[++nt] = trace }
	if (!(parser in pseen)) { pseen[parser] = 1; porder[++np] = parser }
}
function median(key,   k, m, i, j, t, a) {
	m = cnt[key]
	for (i = 1; i <= m; i++) a[i] = vals[key, i] + 0
	for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return m % 2 ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
}
END {
	printf "%-44s %-17s %14s %8s %7s\n", "trace", "parser", "msgs/s (median)", "× scan", "rounds"
	for (t = 1; t <= nt; t++) {
		scan = median(order[t] SUBSEP "scan")
		for (q = 1; q <= np; q++) {
			key = order[t] SUBSEP porder[q]
			if (!(key in cnt)) continue
			m = median(key)
			printf "%-44s %-17s %14.0f %8.3f %7d\n", order[t], porder[q], m, m / scan, cnt[key]
		}
	}
}' "$tmp/out"
