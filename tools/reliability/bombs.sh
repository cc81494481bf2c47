#!/usr/bin/env bash
# bombs.sh: are inputs built to exhaust memory refused, cheaply?
#
# Generates small files whose headers or configs ask for absurd amounts of
# memory (tools/reliability/mkbombs; nothing binary is committed), feeds
# each to the facereward command that reads it under /usr/bin/time -v, and
# checks that the command refuses it: a non-zero exit (degrade, which skips
# unreadable faces by design, must say it skipped the file instead), a plain
# error (no panic, no "out of memory") and a peak RSS ("Maximum resident set size")
# under LIMIT_MB. The same commands run once on a normal small input for
# comparison (those must succeed). Then it starts `serve` and posts
# oversized bodies to /api/restore and /api/verdict (each must get 413 or
# 400), reading the server's peak RSS (VmHWM in /proc/PID/status) before
# and after. Every bomb command runs under `ulimit -v` (VMEM_GB, default
# 16) so that one that is not refused fails instead of taking the machine.
#
# Usage: tools/reliability/bombs.sh
# Environment: BIN (default bin/facereward), LIMIT_MB (default 512),
# VMEM_GB (default 16), KEEP=1 keeps the temporary folder. Faces for the
# normal inputs come from DATA (default ../shared/data/ffhq128).
# Exits non-zero if any check fails. Last line: a one-line summary.
set -euo pipefail

cd "$(dirname "$0")/../.."
data=${DATA:-../shared/data/ffhq128}
bin=${BIN:-bin/facereward}
limit_mb=${LIMIT_MB:-512}
vmem_gb=${VMEM_GB:-16}
if [[ ! -f $data/01001.png ]]; then
	echo "bombs: faces not found in $data (set DATA=folder of FFHQ-style PNGs with 01001.png)" >&2
	exit 2
fi
if [[ ! -x $bin ]]; then
	echo "bombs: $bin not found; build it: GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward" >&2
	exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
	echo "bombs: /usr/bin/time (GNU time) is needed for peak RSS" >&2
	exit 2
fi
bin=$(realpath "$bin")

tmp=$(mktemp -d)
spid=
cleanup() {
	if [[ -n $spid ]]; then kill -9 "$spid" 2>/dev/null || true; fi
	if [[ -n ${KEEP:-} ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
exec {sleepfd}<> <(:)
nap() { read -rt "$1" -u "$sleepfd" || true; }

b=$tmp/bombs
mkdir -p "$b" "$tmp/normal"
CGO_ENABLED=0 nice -n 10 go build -o "$tmp/mkbombs" ./tools/reliability/mkbombs
"$tmp/mkbombs" "$b"
cp "$data/01001.png" "$tmp/normal/face.png"
# One bomb per folder, for the commands that take folders.
for f in png-100000x100000.png jpeg-65000x65000.jpg png-zeros-20000x20000.png; do
	mkdir -p "$b/dir-${f%%.*}"
	cp "$b/$f" "$b/dir-${f%%.*}/"
done
# A restorer model folder whose config.json asks a stage-1 width of 100000,
# and one whose stage-1 weights claim a 2^60-byte header.
cp -r models/default "$b/model-width-100000"
jq '.restorer.stage1.width = 100000' models/default/config.json >"$b/model-width-100000/config.json"
cp -r models/default "$b/model-st-2e60"
cp "$b/st-header-2e60.safetensors" "$b/model-st-2e60/stage1.safetensors"
# A preferences JSONL whose one line is 512 MiB long.
{
	printf '{"id":"'
	head -c $((512 << 20)) /dev/zero | tr '\0' a
	printf '"}\n'
} >"$b/huge-line.jsonl"
# A normal preferences file: one record.
printf '%s\n' '{"id":"p1","face":"01001","lq":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","left":{"image":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","provenance":{"method":"stage1"}},"right":{"image":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","provenance":{"method":"lq"}},"verdict":"left","judge":"ann","at":"2026-01-02T03:04:05Z"}' >"$tmp/normal/prefs.jsonl"

fail=0 refused=0 total=0 worst=0 worst_srv=0 worst_ok=0
rows=()
# measure LABEL EXPECT(fail|ok) CMD...: runs CMD under time -v; prints a row.
measure() {
	local label=$1 expect=$2 n=$((total + 1))
	shift 2
	local out=$tmp/run.$n
	mkdir -p "$out.d"
	local rc=0
	(
		ulimit -v $((vmem_gb << 20))
		cd "$out.d" && nice -n 10 /usr/bin/time -v -o "$out.time" "$@" >"$out.stdout" 2>"$out.stderr"
	) || rc=$?
	local rss_kb msg ok=1
	rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out.time")
	# The first line of the error, past progress bars ("label [===   ] 1/2").
	msg=$(grep -vE '^\s*$|\[[= ]+\] ' "$out.stderr" | head -1 | cut -c1-160 || true)
	local mb=$(((rss_kb + 512) / 1024))
	if [[ $expect == fail || $expect == skip ]]; then
		total=$((total + 1))
		# skip: the command skips an unreadable input, says so, writes
		# nothing for it and goes on (degrade's documented behaviour).
		if [[ $expect == fail ]] && ((rc == 0)); then ok=0; fi
		if [[ $expect == skip ]] && ! grep -q skipping "$out.stderr"; then ok=0; fi
		if grep -qE 'panic|fatal error|out of memory|goroutine [0-9]' "$out.stderr"; then ok=0; fi
		if ((mb > limit_mb)); then ok=0; fi
		if ((ok)); then refused=$((refused + 1)); else fail=1; fi
		if ((mb > worst)); then worst=$mb; fi
	else
		if ((rc != 0)); then ok=0 fail=1; fi
		if ((mb > worst_ok)); then worst_ok=$mb; fi
		msg="(normal input) $(head -1 "$out.stdout" | cut -c1-100)"
	fi
	printf '%-4s %-48s exit %-3s peak %5d MB  %s\n' "$( ((ok)) && echo ok || echo FAIL)" "$label" "$rc" "$mb" "$msg"
}

face=$tmp/normal/face.png
echo "bombs: normal inputs (for comparison)"
measure "restore --aligned (128-px face)" ok "$bin" restore --aligned "$face" --out o
measure "restore photo (128-px face)" ok "$bin" restore "$face" --out o
measure "reward score (128-px face)" ok "$bin" reward score "$face"
measure "degrade (one 128-px face)" ok "$bin" degrade --in "$tmp/normal" --out o
measure "prefs import (one record)" ok "$bin" prefs import --db p.db "$tmp/normal/prefs.jsonl"
echo "bombs: bombs (each must be refused, peak under $limit_mb MB)"
for f in png-100000x100000.png jpeg-65000x65000.jpg png-zeros-20000x20000.png; do
	measure "restore --aligned $f" fail "$bin" restore --aligned "$b/$f" --out o
	measure "restore (photo) $f" fail "$bin" restore "$b/$f" --out o
	measure "reward score $f" fail "$bin" reward score "$b/$f"
	measure "degrade --in (folder with $f)" skip "$bin" degrade --in "$b/dir-${f%%.*}" --out o
done
measure "reward score --model st-header-2e60" fail "$bin" reward score --model "$b/st-header-2e60.safetensors" "$face"
measure "reward score --model st-100gb-tensor" fail "$bin" reward score --model "$b/st-100gb-tensor.safetensors" "$face"
measure "reward score --model frm widths [1e5,1e5]" fail "$bin" reward score --model "$b/frm-widths-100000.safetensors" "$face"
measure "restore --aligned --model (stage1 width 1e5)" fail "$bin" restore --aligned --model "$b/model-width-100000" "$face" --out o
measure "restore --aligned --model (stage1 hdr 2^60)" fail "$bin" restore --aligned --model "$b/model-st-2e60" "$face" --out o
measure "degrade --set kernel_size=1000001" fail "$bin" degrade --in "$tmp/normal" --out o --set kernel_size=1000001
measure "degrade --size 100000" fail "$bin" degrade --in "$tmp/normal" --out o --size 100000
measure "prefs import (one 512 MiB line)" fail "$bin" prefs import --db p.db "$b/huge-line.jsonl"

# The server: oversized bodies must be refused before they are read.
echo "bombs: serve (each must be refused; the server's peak RSS must stay under $limit_mb MB)"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
mkdir -p "$tmp/store"
nice -n 10 "$bin" serve --addr "127.0.0.1:$port" --db "$tmp/serve.db" --store "$tmp/store" >"$tmp/serve.out" 2>&1 &
spid=$!
for ((i = 0; i < 600; i++)); do
	curl -sf -o /dev/null "$url/api/health" && break
	kill -0 "$spid" 2>/dev/null || break
	nap 0.05
done
if ! curl -sf -o /dev/null "$url/api/health"; then
	cat "$tmp/serve.out" >&2
	echo "bombs: the server did not come up" >&2
	exit 1
fi
hwm() { sed -n 's/^VmHWM:\s*\([0-9]*\) kB/\1/p' "/proc/$spid/status"; }
hwm0=$(hwm)
printf '     %-48s peak %5d MB (after start-up)\n' "serve" $(((hwm0 + 512) / 1024))
# post LABEL WANT_CODES CURL_ARGS...: one request; prints code and VmHWM.
post() {
	local label=$1 want=$2 code ok=1
	shift 2
	: >"$tmp/post.body"
	code=$(curl -s -o "$tmp/post.body" -w '%{http_code}' "$@" || true)
	total=$((total + 1))
	local mb=$((($(hwm) + 512) / 1024))
	if [[ " $want " != *" $code "* ]] || ((mb > limit_mb)) || ! kill -0 "$spid" 2>/dev/null; then
		ok=0 fail=1
	else refused=$((refused + 1)); fi
	if ((mb > worst_srv)); then worst_srv=$mb; fi
	printf '%-4s %-48s HTTP %-3s peak %5d MB  %s\n' "$( ((ok)) && echo ok || echo FAIL)" "$label" "$code" "$mb" "$(head -c 120 "$tmp/post.body")"
}
# Streamed from a pipe (chunked), so curl never holds it.
post "POST /api/restore 1 GiB body (chunked)" "413" -X POST -H 'Content-Type: image/png' -T - "$url/api/restore" < <(head -c $((1 << 30)) /dev/zero)
post "POST /api/restore png-100000x100000" "413" -X POST -H 'Content-Type: image/png' --data-binary "@$b/png-100000x100000.png" "$url/api/restore"
post "POST /api/restore jpeg-65000x65000" "413" -X POST -H 'Content-Type: image/jpeg' --data-binary "@$b/jpeg-65000x65000.jpg" "$url/api/restore"
post "POST /api/restore png-zeros-20000x20000" "413" -X POST -H 'Content-Type: image/png' --data-binary "@$b/png-zeros-20000x20000.png" "$url/api/restore"
post "POST /api/verdict 100 MiB JSON body (chunked)" "400 413" -X POST -H 'Content-Type: application/json' -T - "$url/api/verdict" < <(
	printf '{"pair":"'
	head -c $((100 << 20)) /dev/zero | tr '\0' a
	printf '"}'
)
kill "$spid"
wait "$spid" 2>/dev/null || true
spid=

echo "bombs: $refused/$total bombs refused (limit $limit_mb MB): commands' worst peak RSS $worst MB (normal inputs up to $worst_ok MB), server's peak $worst_srv MB (after start-up $(((hwm0 + 512) / 1024)) MB) — $( ((fail)) && echo FAILED || echo 'all refused')"
exit $fail
