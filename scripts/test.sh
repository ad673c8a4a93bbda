#!/usr/bin/env bash
# test.sh - the project's one test command (README, CI): installs the DNS tools the end-to-end
# tests drive when they are missing, then checks formatting, vets, and runs every test with -race.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

# --- tools the e2e tests run for real: dig, named-checkzone, nsd, knotd, kdig, unbound -------
declare -A pkg_of=(
	[dig]=bind9-dnsutils
	[named-checkzone]=bind9-utils
	[nsd]=nsd
	[knotd]=knot
	[kdig]=knot-dnsutils
	[unbound]=unbound
)
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
missing=()
for tool in dig named-checkzone nsd knotd kdig unbound; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg_of[$tool]}")
done
# The Route 53 e2e tests run Debian's aws CLI and boto3 by their full paths (/usr/bin/aws,
# /usr/bin/python3): a pyenv or pip copy earlier on PATH is not what they test.
[ -x /usr/bin/aws ] || missing+=(awscli)
/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || missing+=(python3-boto3)
if ((${#missing[@]})); then
	echo "test.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the packages' maintainer scripts from starting NSD, Knot or unbound as system services: the
	# tests start their own on ephemeral loopback ports. policy-rc.d exit 101 = "not allowed".
	created_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null 2>&1 &&
			as_root chmod 755 /usr/sbin/policy-rc.d && created_policy=1 || true
	fi
	as_root apt-get -o DPkg::Lock::Timeout=300 update -q
	as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
	if [ -n "$created_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
	# Should a service have been started all the same, stop it (our tests do not use port 53).
	for svc in nsd knot unbound unbound-resolvconf; do
		if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
			as_root systemctl stop "$svc" >/dev/null 2>&1 || true
			as_root systemctl disable "$svc" >/dev/null 2>&1 || true
		elif command -v service >/dev/null 2>&1; then
			as_root service "$svc" stop >/dev/null 2>&1 || true
		fi
	done
	for tool in dig named-checkzone nsd knotd kdig unbound; do
		command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: $tool still missing after apt-get install" >&2; exit 1; }
	done
	[ -x /usr/bin/aws ] || { echo "test.sh: /usr/bin/aws still missing after apt-get install" >&2; exit 1; }
	/usr/bin/python3 -c 'import boto3' || { echo "test.sh: boto3 still missing after apt-get install" >&2; exit 1; }
fi

# --- Go ----------------------------------------------------------------------------------------
go version
go mod download

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "test.sh: gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi

go vet ./...
go test -race -count=1 -timeout 20m ./...
