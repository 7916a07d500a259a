#!/bin/sh
# Real clients against the example servers and against the best-known
# servers doing the same job, in the same run, on 127.0.0.1 only:
#   wrk -t1 -c50            wire_httpd   vs nginx (one worker, same body)
#   redis-benchmark -c50    wire_kv      vs redis-server (no persistence)
#                           GET and SET, with -P 1 and -P 16
# Each server runs pinned to one core, the client to another, for a
# bounded time, after an untimed warm-up run against the same server.
# The servers of a pair take turns ROUNDS times, the order reversed
# every round (wire-peer, peer-wire, ...; with a third configuration the
# peer runs in the middle: wire-peer-off, off-peer-wire), so that load
# from elsewhere on the machine and drift hit all alike; each figure is
# the median of its rounds, with the spread (half of max - min, in % of
# the median). Next to the throughput, the server's CPU time per request
# (utime + stime of the server's processes over the timed run, median)
# tells which side is the limit: a server far below one core per
# (1 / throughput) is waiting for its client (a busy-polling server
# counts its waiting too: see the polling-off lines for its cost). The machine's load average is printed at the start and
# end: figures taken while other work ran are not comparable.
# One line per pair: both figures and the ratio (wire / peer), the median
# of the rounds' own ratios, each taken between runs next to each other
# in time, with their range. The example servers poll for up to 50 us
# before they sleep (SRV_BUSY_POLL_NS, see wire_fd_set_busy_poll()): the
# client, whose core sets the pace in the HTTP and -P 1 runs, then seldom
# pays for waking the server's thread. Those runs also measure the
# servers with polling off (WIRE_FD_BUSY_POLL_US=0) in the same rounds,
# printed on lines of their own.
# Usage: servers.sh BUILD_DIR. Installs wrk, nginx-light, redis-server and
# redis-tools with apt-get when missing and running as root; otherwise, or
# when something cannot run, prints "servers: skipped (reason)". Always
# exits 0. Environment: SERVERS_ROUNDS (default 5; the -P 1 runs, whose
# rounds are short and move the most, take SERVERS_ROUNDS1, default 9),
# SERVERS_SECS (wrk
# duration of one run, default 5), SERVERS_N1 / SERVERS_N16
# (redis-benchmark requests per test and run for -P 1 / -P 16, default
# 100000 / 1000000).
b=${1:-build/release}
rounds=${SERVERS_ROUNDS:-5}
rounds1=${SERVERS_ROUNDS1:-9}
secs=${SERVERS_SECS:-5}
n1=${SERVERS_N1:-100000}
n16=${SERVERS_N16:-1000000}
body='hello from libwire
'

skip() {
	echo "servers: skipped ($1)"
	exit 0
}

have() {
	command -v "$1" >/dev/null 2>&1
}

for p in wire_httpd wire_kv; do
	[ -x "$b/$p" ] || skip "$p not built"
done

missing() {
	m=
	have wrk || m="$m wrk"
	have nginx || [ -x /usr/sbin/nginx ] || m="$m nginx-light"
	have redis-server || m="$m redis-server"
	have redis-benchmark || m="$m redis-tools"
	echo "$m"
}
PATH=$PATH:/usr/sbin:/sbin
m=$(missing)
if [ -n "$m" ]; then
	if [ "$(id -u)" = 0 ] && have apt-get; then
		echo "servers: installing$m" >&2
		# Services must not start on install (policy-rc.d decides in
		# containers; the packages' own units are not needed here).
		if ! DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q $m \
			>/tmp/wire-servers-apt.log 2>&1; then
			timeout 300 apt-get update -q >>/tmp/wire-servers-apt.log 2>&1
			DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q $m \
				>>/tmp/wire-servers-apt.log 2>&1
		fi
		m=$(missing)
		[ -z "$m" ] || skip "could not install$m; see /tmp/wire-servers-apt.log"
	else
		skip "missing$m and cannot install (needs root and apt-get)"
	fi
fi
have taskset || skip "taskset missing"
# The first two CPUs this script may run on: server on the first, client
# on the second (both on the same one only on a one-CPU machine).
cpus=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//' | tr ',' '\n' |
	awk -F- '{ e = ($2 == "" ? $1 : $2); for (i = $1; i <= e && n < 2; i++) { print i; n++ } }
		n >= 2 { exit }')
score=$(echo "$cpus" | sed -n 1p)
ccore=$(echo "$cpus" | sed -n 2p)
[ -n "$score" ] || skip "cannot read the CPU affinity"
[ -n "$ccore" ] || ccore=$score
[ "$ccore" != "$score" ] || echo "servers: one CPU only: server and client share it" >&2

tmp=$(mktemp -d /tmp/wire-servers.XXXXXX) || skip "mktemp failed"
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Is something listening on 127.0.0.1:$1 (or the wildcard)? Reads
# /proc/net/tcp so that no extra tool is needed.
listening() {
	hex=$(printf '%04X' "$1")
	awk -v h=":$hex" '$4 == "0A" && ($2 == "0100007F" h || $2 == "00000000" h) { f = 1 }
		END { exit !f }' /proc/net/tcp
}

# Is 127.0.0.1:$1 (or the wildcard) in use in any state (listening,
# connected, TIME_WAIT)?
in_use() {
	hex=$(printf '%04X' "$1")
	awk -v h=":$hex" '$2 == "0100007F" h || $2 == "00000000" h { f = 1 }
		END { exit !f }' /proc/net/tcp
}

# A port nobody uses, below the kernel's ephemeral range (so that no
# client socket can be holding it), from a pseudo-random start.
free_port() {
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ -n "$lo" ] && [ "$lo" -gt 12000 ] || lo=32768
	span=$((lo - 11000))
	p=$(( ($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % span + 10000 ))
	i=0
	while [ $i -lt 200 ]; do
		in_use $p || { echo $p; return 0; }
		p=$((p + 1)); i=$((i + 1))
	done
	return 1
}

# Start "$@" pinned to the server core in the background; wait (at most
# 5 s) until it listens on $port. Sets spid.
start_server() {
	taskset -c $score "$@" >"$tmp/server.out" 2>&1 &
	spid=$!
	i=0
	while [ $i -lt 100 ]; do
		listening "$port" && return 0
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	echo "servers: $1 did not start: $(tail -n 3 "$tmp/server.out" | tr '\n' ' ')" >&2
	stop_server
	return 1
}

stop_server() {
	if [ -n "$spid" ]; then
		kill "$spid" 2>/dev/null
		i=0
		while kill -0 "$spid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		spid=
	fi
}

# Nanoseconds of CPU the server has used so far: every thread of the
# server process and of its children (nginx's worker), from schedstat.
server_ns() {
	kids=
	have pgrep && kids=$(pgrep -P "$spid" 2>/dev/null)
	for p in $spid $kids; do
		cat /proc/"$p"/task/*/schedstat 2>/dev/null
	done | awk '{ t += $1 } END { printf "%.0f\n", t }'
}

# Microseconds of CPU per request from nanoseconds $1 to $2 for $3
# requests, or "-".
per_req() {
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n + 0 > 0 && b > a) printf "%.2f", (b - a) / n / 1000;
		else printf "-" }'
}

# Run the client "$@" (at most $1 seconds) pinned to the client core,
# then print a last line "client-ns N": the CPU it used (the waiting
# shell's children times).
client() {
	t=$1
	shift
	timeout "$t" taskset -c $ccore sh -c '"$@"; awk -v hz="$(getconf CLK_TCK)" \
		"{ printf \"client-ns %.0f\\n\", (\$16 + \$17) * 1e9 / hz }" /proc/$$/stat' client "$@"
}

# wrk against 127.0.0.1:$port for $1 seconds: "req/s server-us/req
# client-us/req", or "- - -" on failure.
run_wrk() {
	c0=$(server_ns)
	client $(($1 + 30)) wrk -t1 -c50 -d"${1}s" "http://127.0.0.1:$port/" \
		2>/dev/null >"$tmp/wrk.out"
	c1=$(server_ns)
	awk -v c0="$c0" -v c1="$c1" '/^Requests\/sec:/ { rps = int($2) } / requests in / { n = $1 }
		/^client-ns / { cl = $2 }
		END { if (!rps || !n) print "- - -";
			else printf "%d %.2f %.2f\n", rps, (c1 - c0) / n / 1000, cl / n / 1000 }' "$tmp/wrk.out"
}

# redis-benchmark test $3 (set or get) with $1 requests and pipeline $2:
# "ops/s server-us/op client-us/op", or "- - -" on failure.
run_rb() {
	c0=$(server_ns)
	client 60 redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -t "$3" -n "$1" \
		-P "$2" --csv 2>/dev/null >"$tmp/rb.out"
	c1=$(server_ns)
	tr -d '"' <"$tmp/rb.out" | awk -F, -v t="$(echo "$3" | tr a-z A-Z)" -v n="$1" \
		-v c0="$c0" -v c1="$c1" '$1 == t { ops = int($2) } /^client-ns / { split($0, f, " "); cl = f[2] }
		END { if (!ops) print "- - -";
			else printf "%d %.2f %.2f\n", ops, (c1 - c0) / n / 1000, cl / n / 1000 }'
}

# Median of the numbers given as arguments ("-" entries ignored); $1 is
# the printf format.
median() {
	f=$1
	shift
	printf '%s\n' "$@" | grep -v '^-$' | sort -n |
		awk -v f="$f" '{ v[NR] = $1 } END { if (NR == 0) print "-";
			else printf f "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Spread of the numbers given as arguments: half of (max - min) in % of
# the median $1.
spread() {
	m=$1
	shift
	printf '%s\n' "$@" | grep -v '^-$' |
		awk -v m="$m" 'NR == 1 { lo = hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
			END { if (NR && m + 0 > 0) printf "+-%.0f%%", (hi - lo) / 2 / m * 100; else printf "n/a" }'
}

# "MEDIAN LOW HIGH" of the ratios $1[i] / $2[i] of two lists of figures
# taken in the same rounds (rounds where either failed are left out), or
# "- - -".
pair_ratios() {
	echo "$1|$2" | awk -F'|' '{ na = split($1, a, " "); split($2, b, " ")
		for (i = 1; i <= na; i++) if (a[i] + 0 > 0 && b[i] + 0 > 0) r[++n] = a[i] / b[i]
		if (!n) { print "- - -"; exit }
		for (i = 2; i <= n; i++) for (j = i; j > 1 && r[j] < r[j - 1]; j--) {
			t = r[j]; r[j] = r[j - 1]; r[j - 1] = t }
		m = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", m, r[1], r[n] }'
}

# "1.05x (rounds 0.98-1.12x)" for the figures $1 against $2.
paired() {
	set -- $(pair_ratios "$1" "$2")
	if [ "$1" = - ]; then printf "n/a"; else printf "%sx (rounds %s-%sx)" "$1" "$2" "$3"; fi
}

# "NAME X req/s (+-S%; server U us/req, B% busy; client ...)" for the
# rates $3, server times $4 and client times $5 of the runs. Busy is the
# median time per request times the median rate: near 100% is the side
# that sets the pace.
figure() {
	mx=$(median %.0f $3)
	su=$(median %.2f $4)
	cu=$(median %.2f $5)
	echo "$1 $mx $2 ($(spread "$mx" $3); server $su us/req, $(busy "$su" "$mx");" \
		"client $cu us/req, $(busy "$cu" "$mx"))"
}

busy() {
	awk -v u="$1" -v r="$2" 'BEGIN { if (u + 0 > 0 && r + 0 > 0) printf "%.0f%% busy", u * r / 1e4;
		else printf "busy n/a" }'
}

load() {
	cut -d' ' -f1 /proc/loadavg
}

# --- HTTP: wire_httpd against nginx -------------------------------------
mkdir -p "$tmp/www" "$tmp/nginx/logs"
user_line=
[ "$(id -u)" = 0 ] && user_line="user root;"
# The same body through nginx's return directive (printf keeps the newline).
nbody=$(printf '%s' "$body" | sed 's/$/\\n/' | tr -d '\n')
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:PORT;
		location = / {
			default_type text/plain;
			return 200 "$nbody";
		}
	}
}
EOF

# Start server $1 ("wire", "off": wire with busy polling off, or "peer")
# and run wrk on it: a 1 s warm-up, then the timed run. Appends to the
# figures of that side.
http_turn() {
	port=$(free_port) || skip "no free port"
	v="- - -" started=0
	case $1 in
	wire) start_server "$b/wire_httpd" "$port" "$tmp/www" && started=1 ;;
	off) start_server env WIRE_FD_BUSY_POLL_US=0 "$b/wire_httpd" "$port" "$tmp/www" &&
		started=1 ;;
	*)
		sed "s/PORT;/$port;/" "$tmp/nginx.conf" >"$tmp/nginx-run.conf"
		start_server nginx -p "$tmp/nginx" -c "$tmp/nginx-run.conf" \
			-e "$tmp/nginx/error.log" && started=1
		;;
	esac
	if [ $started = 1 ]; then
		run_wrk 1 >/dev/null
		v=$(run_wrk "$secs")
		stop_server
	fi
	set -- "$1" $v
	case $1 in
	wire) w_all="$w_all $2" w_cpu="$w_cpu $3" w_cl="$w_cl $4" ;;
	off) o_all="$o_all $2" o_cpu="$o_cpu $3" o_cl="$o_cl $4" ;;
	*) n_all="$n_all $2" n_cpu="$n_cpu $3" n_cl="$n_cl $4" ;;
	esac
}

# Run the turns (function $1) of "$2 $3 $4" in round $r: $3 (the peer) in
# the middle, so that both others run next to it in time, and the order
# reversed every other round, so that each goes before the peer in half
# the rounds.
three() {
	if [ $((r % 2)) = 0 ]; then $1 "$2"; $1 "$3"; $1 "$4"
	else $1 "$4"; $1 "$3"; $1 "$2"; fi
}

load0=$(load)
w_all='' n_all='' o_all='' w_cpu='' n_cpu='' o_cpu='' w_cl='' n_cl='' o_cl=''
r=0
while [ $r -lt "$rounds" ]; do
	three http_turn wire peer off
	r=$((r + 1))
done
echo "servers http: $(figure wire_httpd req/s "$w_all" "$w_cpu" "$w_cl")," \
	"$(figure nginx req/s "$n_all" "$n_cpu" "$n_cl")," \
	"ratio $(paired "$w_all" "$n_all") (wrk -t1 -c50 -d${secs}s after 1 s of warm-up, $rounds rounds" \
	"in alternating order, nginx in the middle: wire_httpd$w_all, nginx$n_all; server on core $score, client on" \
	"core $ccore; load average $load0 -> $(load))"
echo "ROW|-|wire_httpd (one core) against nginx, one worker; wrk -c50|$(paired "$w_all" "$n_all")" \
	"nginx's rate; busy polling off: $(paired "$o_all" "$n_all")|nginx $(median %.0f $n_all) req/s"
echo "servers http, wire_httpd polling off: $(figure wire_httpd req/s "$o_all" "$o_cpu" "$o_cl")," \
	"ratio to nginx $(paired "$o_all" "$n_all") (WIRE_FD_BUSY_POLL_US=0, same rounds:" \
	"wire_httpd$o_all)"

# --- KV: wire_kv against redis-server -----------------------------------
# Start server $1 ("wire", "off": wire with busy polling off, or "peer"),
# warm it up with a tenth of the requests, then time SET and GET with
# pipeline $P, $n requests each.
kv_turn() {
	port=$(free_port) || skip "no free port"
	vs="- - -" vg="- - -" started=0
	case $1 in
	wire) start_server "$b/wire_kv" "$port" && started=1 ;;
	off) start_server env WIRE_FD_BUSY_POLL_US=0 "$b/wire_kv" "$port" && started=1 ;;
	*)
		start_server redis-server --port "$port" --bind 127.0.0.1 --save "" \
			--appendonly no --dir "$tmp" --logfile "$tmp/redis.log" \
			--daemonize no && started=1
		;;
	esac
	if [ $started = 1 ]; then
		run_rb $((n / 10)) "$P" set >/dev/null
		run_rb $((n / 10)) "$P" get >/dev/null
		vs=$(run_rb "$n" "$P" set)
		vg=$(run_rb "$n" "$P" get)
		stop_server
	fi
	set -- "$1" $vs $vg
	case $1 in
	wire) ws="$ws $2" wsc="$wsc $3" wsk="$wsk $4" wg="$wg $5" wgc="$wgc $6" wgk="$wgk $7" ;;
	off) os="$os $2" osc="$osc $3" osk="$osk $4" og="$og $5" ogc="$ogc $6" ogk="$ogk $7" ;;
	*) rs="$rs $2" rsc="$rsc $3" rsk="$rsk $4" rg="$rg $5" rgc="$rgc $6" rgk="$rgk $7" ;;
	esac
}

rounds16=$rounds
for P in 1 16; do
	if [ $P = 1 ]; then n=$n1 rounds=$rounds1; else n=$n16 rounds=$rounds16; fi
	wg='' ws='' rg='' rs='' wgc='' wsc='' rgc='' rsc='' wgk='' wsk='' rgk='' rsk=''
	og='' os='' ogc='' osc='' ogk='' osk=''
	load0=$(load)
	r=0
	while [ $r -lt "$rounds" ]; do
		# Polling matters where the client sets the pace (-P 1); at -P 16
		# the off runs are left out to keep the run short.
		if [ $P = 1 ]; then three kv_turn wire peer off
		elif [ $((r % 2)) = 0 ]; then kv_turn wire; kv_turn peer
		else kv_turn peer; kv_turn wire; fi
		r=$((r + 1))
	done
	for t in GET SET; do
		if [ $t = GET ]; then aa=$wg ac=$wgc ak=$wgk cc=$rg rc=$rgc rk=$rgk
		else aa=$ws ac=$wsc ak=$wsk cc=$rs rc=$rsc rk=$rsk; fi
		echo "servers kv $t -P $P: $(figure wire_kv ops/s "$aa" "$ac" "$ak")," \
			"$(figure redis-server ops/s "$cc" "$rc" "$rk")," \
			"ratio $(paired "$aa" "$cc")" \
			"(redis-benchmark -c50 -n $n after a warm-up, $rounds rounds in" \
			"alternating order: wire_kv$aa, redis-server$cc; server on core $score," \
			"client on core $ccore; load average $load0 -> $(load))"
		if [ $P = 1 ]; then
			if [ $t = GET ]; then oa=$og; else oa=$os; fi
			echo "ROW|-|wire_kv against redis-server, $t, redis-benchmark -c50 -P 1|$(paired "$aa" "$cc")" \
				"redis-server's rate; busy polling off: $(paired "$oa" "$cc")|redis-server $(median %.0f $cc) ops/s"
		else
			echo "ROW|-|wire_kv against redis-server, $t, redis-benchmark -c50 -P 16|$(paired "$aa" "$cc")" \
				"redis-server's rate|redis-server $(median %.0f $cc) ops/s"
		fi
		[ $P = 1 ] || continue
		if [ $t = GET ]; then aa=$og ac=$ogc ak=$ogk; else aa=$os ac=$osc ak=$osk; fi
		echo "servers kv $t -P $P, wire_kv polling off: $(figure wire_kv ops/s "$aa" "$ac" "$ak")," \
			"ratio to redis-server $(paired "$aa" "$cc")" \
			"(WIRE_FD_BUSY_POLL_US=0, same rounds: wire_kv$aa)"
	done
done
exit 0
