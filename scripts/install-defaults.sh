#!/bin/sh
# meson install script: the default /etc/vservers/.defaults tree.
# Existing files and links are never replaced.
set -eu
sysconfdir="$1"
root="${DESTDIR:-}${sysconfdir}/vservers"
mkdir -p "$root/.defaults/apps/init"
chmod 0755 "$root"
[ -e "$root/.defaults/vdirbase" ] || [ -L "$root/.defaults/vdirbase" ] || ln -s /vservers "$root/.defaults/vdirbase"
[ -e "$root/.defaults/cachebase" ] || [ -L "$root/.defaults/cachebase" ] || ln -s /var/cache/vservers "$root/.defaults/cachebase"
if [ -z "${DESTDIR:-}" ]; then
	mkdir -p /vservers /var/cache/vservers
	chmod 0700 /vservers
fi
