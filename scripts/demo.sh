#!/bin/bash
# The main job: install dependencies, build and install vserver, create a
# Debian guest named "demo" with debootstrap from the host's own APT
# mirror, and show it.
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
vserver list
vserver demo status || true
