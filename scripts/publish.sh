#!/usr/bin/env bash
# `make publish`: publishes the gateway to the AWS Serverless Application Repository (SAR), from
# which anyone deploys it with one click in the Lambda console.
#
#   SAR_BUCKET=my-sar-artifacts scripts/publish.sh            # arm64 build (the default)
#   SAR_BUCKET=... ARCH=x86_64 scripts/publish.sh
#   SAR_BUCKET=... SOURCE_CODE_URL=https://example.org/bedrock-gateway scripts/publish.sh
#   SAR_BUCKET=... scripts/publish.sh --package-only           # stop after `sam package`
#
# Needs the release zip (`make release`, or ARCHES=arm64 make release), AWS credentials allowed
# to write SAR_BUCKET and call serverlessrepo:CreateApplication/CreateApplicationVersion, and a
# bucket policy on SAR_BUCKET that lets serverlessrepo.amazonaws.com read it (docs/deploy.md
# shows one). A SAR application has one architecture per version: publish the other one as an
# application of its own name if you need both.
#
# Steps: scripts/package_template.py writes the SAR variant of template.yaml (the code is the
# local zip, Architecture fixed to it, the version from Cargo.toml); `sam package` uploads the
# zip and README.md to SAR_BUCKET and writes their S3 locations; `sam publish` creates the
# application or its new version. The SAM CLI lives in its own environment, .venv-sam.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

arch="${ARCH:-arm64}"
out="${OUT:-dist}"
bucket="${SAR_BUCKET:-}"
prefix="${SAR_PREFIX:-bedrock-gateway}"
version="${VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)}"
package_only=false
[ "${1:-}" = "--package-only" ] && package_only=true

if [ -z "$bucket" ]; then
  echo "publish: set SAR_BUCKET to an S3 bucket the Serverless Application Repository can read" >&2
  exit 2
fi
zip="$out/bedrock-gateway-$arch.zip"
if [ ! -f "$zip" ]; then
  echo "publish: $zip is missing; run 'ARCHES=$arch make release' first" >&2
  exit 1
fi

use_venv tests/requirements.txt
sar_template="$out/template.sar.yaml"
# sam package resolves relative paths from the template's folder (OUT): the zip is there,
# README.md is given by its absolute path.
python scripts/package_template.py sar template.yaml "$sar_template" "$version" \
  "bedrock-gateway-$arch.zip" "$(pwd)/README.md" "${SOURCE_CODE_URL:-}"

# The SAM CLI, in its own environment (it pins boto3 and cfn-lint versions of its own).
VENV_DIR="$(pwd)/.venv-sam" use_venv scripts/sam-requirements.txt
sam package --template-file "$sar_template" --s3-bucket "$bucket" --s3-prefix "$prefix/$version" \
  --output-template-file "$out/template.sar.packaged.yaml" ${AWS_REGION:+--region "$AWS_REGION"}
echo "publish: $out/template.sar.packaged.yaml"
$package_only && exit 0
sam publish --template "$out/template.sar.packaged.yaml" --semantic-version "$version" \
  ${AWS_REGION:+--region "$AWS_REGION"}
