#!/usr/bin/env bash
# Makes the app's PNG icons from icon.svg (committed; run again after
# changing the icon). Needs rsvg-convert: apt-get install librsvg2-bin.
#   icon-192.png, icon-512.png: the icon as it is (rounded, transparent corners);
#   icon-maskable-512.png, apple-touch-icon.png (180 px): full-bleed black with the
#   roller inside the maskable safe zone (Android crops it to its own shape,
#   iOS rounds the corners itself).
set -euo pipefail
cd "$(dirname "$0")"
rsvg-convert -w 192 -h 192 icon.svg -o icon-192.png
rsvg-convert -w 512 -h 512 icon.svg -o icon-512.png
full_bleed='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#000"/><g transform="translate(32 32) scale(0.75) translate(-32 -32)"><rect x="26" y="8" width="12" height="48" rx="6" fill="#333"/><circle cx="32" cy="20" r="10" fill="#ffd400"/></g></svg>'
rsvg-convert -w 512 -h 512 -o icon-maskable-512.png <<< "$full_bleed"
rsvg-convert -w 180 -h 180 -o apple-touch-icon.png <<< "$full_bleed"
