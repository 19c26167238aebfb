#!/usr/bin/env bash
# Points resvg (@ebm/viz's PNG renderer, through its fontconfig parser) at the fonts that kit-example.sh put in
# .gpu-kit/fonts: the GPU machine has no system fonts, so PNGs rendered there lack all text without this.
# Source it (`. packages/cuda/bench/kit-fonts.sh`) or eval its output (`eval "$(bash packages/cuda/bench/kit-fonts.sh)"`).
# Writes .gpu-kit/fonts/fonts.conf (absolute path: the kit's place differs per machine); keeps a FONTCONFIG_FILE
# already set.
_kit=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.gpu-kit
if [ -z "${FONTCONFIG_FILE:-}" ] && [ -d "$_kit/fonts" ]; then
  printf '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>%s</dir></fontconfig>\n' \
    "$_kit/fonts" >"$_kit/fonts/fonts.conf"
  export FONTCONFIG_FILE=$_kit/fonts/fonts.conf
fi
[ "${BASH_SOURCE[0]}" = "$0" ] && [ -n "${FONTCONFIG_FILE:-}" ] && echo "export FONTCONFIG_FILE=$FONTCONFIG_FILE"
unset _kit
