#!/usr/bin/env bash
# Release artifacts (`make release`): everything a user needs to deploy without Rust or SAM.
#
#   scripts/release.sh                          # both architectures, into dist/
#   ARCHES=x86_64 scripts/release.sh            # one architecture
#   scripts/release.sh --bootstrap PATH --arch x86_64   # package an already-built binary
#                                               # (CI's cheap check; no cargo-lambda build)
#   OUT=some/dir VERSION=1.2.3 scripts/release.sh
#
# Writes to OUT (default dist/):
#   bedrock-gateway-arm64.zip, bedrock-gateway-x86_64.zip   each holds one file, `bootstrap`
#   template.packaged.yaml   template.yaml with the code read from S3: parameters ArtifactBucket
#                            and ArtifactPrefix (default bedrock-gateway/VERSION/), one zip per
#                            Architecture; no SAM build, no local paths
#   SHA256SUMS               sha256sum of the files above (`sha256sum -c SHA256SUMS` checks)
#
# The build is cargo-lambda's (scripts/lambda-build.sh: cargo-lambda and zig from PyPI into
# .venv, offline once installed). The zips are reproducible for a given binary: fixed file
# time (SOURCE_DATE_EPOCH, default the last commit's time), mode 0755, no extra attributes.
# Time: a clean arm64 cargo-lambda release build took 8 min 35 s on an idle 2-core machine
# (x86_64 is similar), so both architectures take about 20 minutes from clean; on a machine
# shared with other builds it is several times that.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

out="${OUT:-dist}"
arches="${ARCHES:-arm64 x86_64}"
bootstrap=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --bootstrap) bootstrap="$2"; shift 2 ;;
    --arch) arches="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "release: unknown argument $1 (see the top of scripts/release.sh)" >&2; exit 2 ;;
  esac
done
if [ -n "$bootstrap" ] && [ "$(wc -w <<<"$arches")" -ne 1 ]; then
  echo "release: --bootstrap packages one binary: give its --arch (arm64 or x86_64)" >&2
  exit 2
fi
version="${VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}"

mkdir -p "$out"
rm -f "$out"/bedrock-gateway-*.zip "$out"/template.packaged.yaml "$out"/SHA256SUMS
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for arch in $arches; do
  case "$arch" in arm64 | x86_64) ;; *) echo "release: unknown architecture $arch" >&2; exit 2 ;; esac
  if [ -n "$bootstrap" ]; then
    binary="$bootstrap"
  else
    started=$(date +%s)
    ARCH="$arch" scripts/lambda-build.sh
    echo "release: $arch build took $(($(date +%s) - started)) s"
    binary=target/lambda/bedrock-gateway/bootstrap
  fi
  mkdir -p "$stage/$arch"
  cp "$binary" "$stage/$arch/bootstrap"
  chmod 0755 "$stage/$arch/bootstrap"
  touch -d "@$SOURCE_DATE_EPOCH" "$stage/$arch/bootstrap"
  zip_path="$(cd "$out" && pwd)/bedrock-gateway-$arch.zip"
  (cd "$stage/$arch" && TZ=UTC zip -q -X "$zip_path" bootstrap)
  echo "release: $out/bedrock-gateway-$arch.zip ($(du -h "$zip_path" | cut -f1))"
done

# The packaged template; cfn-lint's YAML loader (in .venv) reads the short-form intrinsics.
use_venv tests/requirements.txt
python scripts/package_template.py release template.yaml "$out/template.packaged.yaml" "$version"
(cd "$out" && sha256sum bedrock-gateway-*.zip template.packaged.yaml >SHA256SUMS)
echo "release: $out/template.packaged.yaml (version $version), $out/SHA256SUMS"
