#!/bin/sh
# Real clients against the example servers and against the best-known
# servers doing the same job, in the same run, on 127.0.0.1 only:
#   wrk -t1 -c50            wire_httpd   vs nginx (one worker, same body)
#   redis-benchmark -c50    wire_kv      vs redis-server (no persistence)
#                           GET and SET, with -P 1 and -P 16
# Each server runs pinned to core 0, the client to core 1, for a bounded
# time. The two servers of a pair take turns, ROUNDS times, so that load
# from elsewhere on the machine hits both alike; each figure is the median
# of its rounds. One line per pair: both figures and the ratio (wire / peer).
# Usage: servers.sh BUILD_DIR. Installs wrk, nginx-light, redis-server and
# redis-tools with apt-get when missing and running as root; otherwise, or
# when something cannot run, prints "servers: skipped (reason)". Always
# exits 0. Environment: SERVERS_ROUNDS (default 3), SERVERS_SECS (wrk
# duration of one run, default 5), SERVERS_N1 / SERVERS_N16
# (redis-benchmark requests per test and run for -P 1 / -P 16, default
# 100000 / 1000000).
b=${1:-build/release}
rounds=${SERVERS_ROUNDS:-3}
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
if [ "$(nproc)" -ge 2 ]; then
	score=0 ccore=1
else
	score=0 ccore=0
fi

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

# wrk requests/s against 127.0.0.1:$port, or "-" on failure.
run_wrk() {
	timeout $((secs + 30)) taskset -c $ccore wrk -t1 -c50 -d"${secs}s" \
		"http://127.0.0.1:$port/" 2>/dev/null |
		awk '/^Requests\/sec:/ { print int($2); f = 1 } END { if (!f) print "-" }'
}

# redis-benchmark ops/s for GET and SET ("get set", "- -" on failure).
run_rb() {
	timeout 60 taskset -c $ccore redis-benchmark -h 127.0.0.1 -p "$port" -c 50 \
		-t set,get -n "$1" -P "$2" --csv 2>/dev/null | tr -d '"' |
		awk -F, '$1 == "GET" { g = int($2) } $1 == "SET" { s = int($2) }
			END { print (g ? g : "-"), (s ? s : "-") }'
}

# Median of the numbers given as arguments ("-" entries ignored).
median() {
	printf '%s\n' "$@" | grep -v '^-$' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
			else if (NR % 2) print v[(NR + 1) / 2];
			else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b;
		else printf "n/a" }'
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

w_all= n_all=
r=0
while [ $r -lt "$rounds" ]; do
	port=$(free_port) || skip "no free port"
	v=-
	if start_server "$b/wire_httpd" "$port" "$tmp/www"; then
		v=$(run_wrk)
		stop_server
	fi
	w_all="$w_all $v"
	port=$(free_port) || skip "no free port"
	sed "s/PORT;/$port;/" "$tmp/nginx.conf" >"$tmp/nginx-run.conf"
	v=-
	if start_server nginx -p "$tmp/nginx" -c "$tmp/nginx-run.conf" -e "$tmp/nginx/error.log"; then
		v=$(run_wrk)
		stop_server
	fi
	n_all="$n_all $v"
	r=$((r + 1))
done
w_http=$(median $w_all)
n_http=$(median $n_all)
echo "servers http: wire_httpd $w_http req/s, nginx $n_http req/s," \
	"ratio $(ratio "$w_http" "$n_http") (wrk -t1 -c50 -d${secs}s, median of $rounds alternating runs:" \
	"wire_httpd$w_all, nginx$n_all; server on core $score, client on core $ccore)"

# --- KV: wire_kv against redis-server -----------------------------------
for P in 1 16; do
	if [ $P = 1 ]; then n=$n1; else n=$n16; fi
	wg= ws= rg= rs=
	r=0
	while [ $r -lt "$rounds" ]; do
		port=$(free_port) || skip "no free port"
		v="- -"
		if start_server "$b/wire_kv" "$port"; then
			v=$(run_rb "$n" $P)
			stop_server
		fi
		set -- $v
		wg="$wg $1" ws="$ws $2"
		port=$(free_port) || skip "no free port"
		v="- -"
		if start_server redis-server --port "$port" --bind 127.0.0.1 --save "" \
			--appendonly no --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no; then
			v=$(run_rb "$n" $P)
			stop_server
		fi
		set -- $v
		rg="$rg $1" rs="$rs $2"
		r=$((r + 1))
	done
	for t in GET SET; do
		if [ $t = GET ]; then a=$(median $wg) c=$(median $rg) aa=$wg cc=$rg
		else a=$(median $ws) c=$(median $rs) aa=$ws cc=$rs; fi
		echo "servers kv $t -P $P: wire_kv $a ops/s, redis-server $c ops/s, ratio $(ratio "$a" "$c")" \
			"(redis-benchmark -c50 -n $n, median of $rounds alternating runs: wire_kv$aa," \
			"redis-server$cc; server on core $score, client on core $ccore)"
	done
done
exit 0
