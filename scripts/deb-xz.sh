#!/usr/bin/env bash
# deb-xz.sh DEB: repacks a .deb built by the Tauri bundler with its data compressed by xz
# instead of gzip, in place. The bundler has no compression setting and gzip leaves the .deb
# about 40 % larger (docs/benchmarks.md); dpkg has read xz-compressed packages since 1.15.6.
# The files, their modes and the control data are unchanged: `dpkg-deb -R` unpacks the
# package as it is and `dpkg-deb -b` packs the same tree again.
set -euo pipefail
deb=$1
work=$(mktemp -d -t lanyard-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
dpkg-deb -R "$deb" "$work/root"
# --root-owner-group: the bundler's package installs root-owned files; keep it so.
dpkg-deb --root-owner-group -Zxz -z9 -b "$work/root" "$work/out.deb" >/dev/null
mv "$work/out.deb" "$deb"
