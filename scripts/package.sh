#!/usr/bin/env bash
# `make package`: builds Lanyard's .deb with the Tauri bundler and checks what is inside it.
# Only the deb target: AppImage bundling downloads linuxdeploy and its plugins at build time,
# which a machine without general internet access cannot do.
#
# `package.sh --debug` bundles the debug build that is already there (target/debug/lanyard-app,
# as the end-to-end test builds it) without compiling anything: the install smoke test
# (scripts/deb-smoke.sh) checks the packaging, not the optimiser, and a release build would
# add minutes to `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=release
[ "${1:-}" = "--debug" ] && PROFILE=debug

# The Tauri CLI, pinned to the major version of the tauri crate, private to this checkout.
# The npm package ships a prebuilt binary, so nothing is compiled here.
TAURI=.tools/tauri-cli/node_modules/.bin/tauri
if [ ! -x "$TAURI" ]; then
  echo "==> installing @tauri-apps/cli@2 into .tools/tauri-cli"
  mkdir -p .tools/tauri-cli
  npm install --silent --no-audit --no-fund --prefix .tools/tauri-cli @tauri-apps/cli@2 >/dev/null
fi
TAURI=$PWD/$TAURI
if [ -f ui/package.json ] && [ ! -d ui/node_modules ]; then
  (cd ui && npm ci --silent --no-audit --no-fund >/dev/null)
fi

if [ "$PROFILE" = debug ]; then
  [ -x "${CARGO_TARGET_DIR:-$PWD/target}/debug/lanyard-app" ] \
    || { echo "package --debug: build lanyard-app first (cargo build -p lanyard-app)" >&2; exit 1; }
  echo "==> tauri bundle --debug --bundles deb   ($("$TAURI" --version))"
  (cd src-tauri && CI=true "$TAURI" bundle --ci --debug --bundles deb)
else
  echo "==> tauri build --bundles deb   ($("$TAURI" --version))"
  # --ci: never prompt. The Tauri CLI runs beforeBuildCommand from the app root (the parent of
  # src-tauri), so the UI build is given with an explicit cwd; it fills ui/dist (frontendDist).
  ui_build="{\"build\":{\"beforeBuildCommand\":{\"script\":\"npm run build\",\"cwd\":\"$PWD/ui\"}}}"
  (cd src-tauri && CI=true "$TAURI" build --ci --bundles deb --config "$ui_build")
fi

# The workspace shares one target dir, so the bundle lands under the root target/.
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
version=$(python3 -c 'import json; print(json.load(open("src-tauri/tauri.conf.json"))["version"])')
deb=$(ls -t "$target_dir"/$PROFILE/bundle/deb/*_"$version"_*.deb 2>/dev/null | head -n1 || true)
[ -n "$deb" ] || { echo "no .deb found under $target_dir/$PROFILE/bundle/deb" >&2; exit 1; }
# The release .deb is what people download: repacked with xz. The debug one only feeds the
# install smoke test, which needs no small file.
if [ "$PROFILE" = release ]; then
  echo "==> repacking with xz (scripts/deb-xz.sh)"
  bash scripts/deb-xz.sh "$deb"
fi

echo "==> checking $deb"
info=$(dpkg-deb -I "$deb")
contents=$(dpkg-deb -c "$deb")
fail=0
check() { # what, haystack, pattern
  if grep -qE "$3" <<<"$2"; then echo "  ok   $1"; else echo "  FAIL $1" >&2; fail=1; fi
}
check "control: Package"                  "$info"     '^ Package: '
check "control: depends on webkit2gtk 4.1" "$info"     '^ Depends: .*libwebkit2gtk-4\.1-0'
check "control: depends on appindicator"   "$info"     '^ Depends: .*libayatana-appindicator3-1'
check "binary usr/bin/lanyard-app"         "$contents" ' (\./)?usr/bin/lanyard-app$'
check "desktop file"                       "$contents" ' (\./)?usr/share/applications/[^/]+\.desktop$'
check "icon"                               "$contents" ' (\./)?usr/share/icons/hicolor/.+\.png$'
[ "$fail" -eq 0 ] || { echo "the .deb is missing something (see above)" >&2; exit 1; }

size=$(stat -c %s "$deb")
echo
echo "$deb"
echo "size: $size bytes ($(numfmt --to=iec-i --suffix=B "$size"))"
