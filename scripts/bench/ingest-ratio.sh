#!/usr/bin/env bash
# ingest-ratio.sh: the engine's ingest rate through the real gRPC receiver (sync=batch) next to pdata's
# unmarshal rate of the same payloads, alternated: ROUNDS rounds of, per signal, BenchmarkIngest/<signal>/
# unmarshal (5 s) then BenchmarkIngest/<signal>/grpc/sync=batch (10 s), each ingest rate divided by the
# unmarshal rate measured just before it. On a machine shared with other load the rates drift by tens of
# percent within minutes; pairs taken seconds apart keep the ratio honest. Prints one line per pair. The
# ingest rate counts the engine settling after the last export (flush, merges: sustainable); the burst rate
# is that of the exports alone.
#
# Usage: scripts/bench/ingest-ratio.sh [ROUNDS]   (default 5; about 70 s per round)
set -euo pipefail
rounds=${1:-5}
cd "$(dirname "$0")/../.."
bin=$(mktemp -d)/engine.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./internal/storage/engine
field() { grep -oE "[0-9.]+ $1" | head -1 | cut -d' ' -f1; }
echo "$(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$rounds"); do
	for sig in spans logs; do
		u=$("$bin" -test.run NONE -test.bench "BenchmarkIngest/$sig/unmarshal" -test.benchtime 5s 2>&1 | grep '^Bench')
		g=$("$bin" -test.run NONE -test.bench "BenchmarkIngest/$sig/grpc/sync=batch" -test.benchtime 10s 2>&1 | grep '^Bench')
		ur=$(field "$sig/s" <<<"$u") uc=$(field cpu-ns/item <<<"$u")
		gr=$(field "$sig/s" <<<"$g") gc=$(field cpu-ns/item <<<"$g") rss=$(field peak-RSS-MiB <<<"$g")
		gb=$(field "burst-$sig/s" <<<"$g")
		printf '%s round %d: unmarshal %s/s %s cpu-ns | ingest %s/s (burst %s/s) %s cpu-ns, peak RSS %s MiB | rate ratio %.3f (burst %.3f), cpu ratio %.3f\n' \
			"$sig" "$i" "$ur" "$uc" "$gr" "$gb" "$gc" "$rss" "$(awk "BEGIN{print $gr/$ur}")" "$(awk "BEGIN{print $gb/$ur}")" "$(awk "BEGIN{print $uc/$gc}")"
	done
done
