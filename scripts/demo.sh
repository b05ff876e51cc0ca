#!/bin/bash
# The main job: install dependencies, build and install vserver, create a
# Debian guest named "demo" with debootstrap from the host's own APT
# mirror, start it, and show it running (status, a command inside).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -d build ] || meson setup build --prefix=/usr/local
ninja -C build
meson install -C build --quiet
export PATH=/usr/local/sbin:$PATH
if vserver demo config >/dev/null 2>&1; then
	echo "guest 'demo' already exists"
else
	vserver demo build -m debootstrap --hostname demo -- -d "$(. /etc/os-release; echo "$VERSION_CODENAME")"
fi
vserver demo start
vserver list
vserver demo status
# start returned once the guest's systemd reported its boot done
state=$(vserver demo exec -T systemctl is-system-running 2>/dev/null) || true
echo "demo: systemctl is-system-running: ${state:-unknown}"
vserver demo exec cat /etc/debian_version
vserver-stat
