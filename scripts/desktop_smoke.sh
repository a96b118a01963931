#!/usr/bin/env bash
# Desktop smoke run: start real QGIS under Xvfb with a throw-away profile in which the
# plugin is enabled, co-register the demo pair from the dock, and save a screenshot.
#
#   scripts/desktop_smoke.sh [OUTDIR]     (default: build/desktop_smoke)
#
# Writes OUTDIR/screenshot.png, OUTDIR/result.json (what the run saw) and OUTDIR/qgis.log.
# Exit code 0 when QGIS ran the co-registration and saved the screenshot.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
outdir="${1:-$repo/build/desktop_smoke}"
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/sarcoreg-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT

for tool in qgis xvfb-run; do
    command -v "$tool" >/dev/null || { echo "desktop_smoke: '$tool' is not installed" >&2; exit 77; }
done

# a profile where only sarcoreg is added and enabled
profiles="$work/qgis"   # QGIS puts profiles in <profiles-path>/profiles/<name>
plugins="$profiles/profiles/default/python/plugins"
mkdir -p "$plugins" "$profiles/profiles/default/QGIS"
ln -s "$repo" "$plugins/sarcoreg"
cat > "$profiles/profiles/default/QGIS/QGIS3.ini" <<INI
[PythonPlugins]
sarcoreg=true

[qgis]
showTips=false
checkVersion=false
allowVersionCheck=false

[core]
NewsFeed\\httpsfeedqgisorg\\disabled=true
INI

rm -f "$outdir/screenshot.png" "$outdir/result.json"
rm -rf "$outdir/run"

site="$(ls -d "$repo"/.venv/lib/python3*/site-packages 2>/dev/null | head -n1 || true)"
export PYTHONPATH="${site}${PYTHONPATH:+:$PYTHONPATH}"
export SARCOREG_SMOKE_OUT="$outdir"
export QGIS_DISABLE_MESSAGE_HOOKS=1
unset QT_QPA_PLATFORM

timeout "${SARCOREG_SMOKE_TIMEOUT:-240}" xvfb-run -a -s "-screen 0 1600x1000x24" \
    qgis --nologo --noversioncheck --profiles-path "$profiles" \
         --code "$repo/scripts/desktop_smoke.py" >"$outdir/qgis.log" 2>&1 || true

if [[ -s "$outdir/screenshot.png" && -s "$outdir/result.json" ]] && grep -q '"ok": true' "$outdir/result.json"; then
    echo "desktop_smoke: ok, screenshot in $outdir/screenshot.png"
    exit 0
fi
echo "desktop_smoke: FAILED, see $outdir/qgis.log and $outdir/result.json" >&2
tail -n 30 "$outdir/qgis.log" >&2 || true
exit 1
