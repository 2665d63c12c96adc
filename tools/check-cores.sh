#!/usr/bin/env bash
# The sans-IO protocol cores must not touch sockets, the clock, libevent,
# libnice, GLib or NNG: time and bytes come in as arguments.
set -u
bad=$(grep -nE '#include *<(sys/socket|netinet/|event2/|nice/|glib|gio/|nng/|time\.h|sys/time)|\b(clock_gettime|gettimeofday|time\(|vc_now_(ms|us)|socket\(|sendto|recvfrom|sendmmsg|recvmmsg|g_main_|nice_agent_)' \
      media-worker/core/*.c media-worker/core/*.h 2>/dev/null)
if [ -n "$bad" ]; then echo "core purity violations:"; echo "$bad"; exit 1; fi
echo "check: cores are sans-IO"
