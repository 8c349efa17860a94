#!/usr/bin/env bash
# Lints the kpi.v1 protos with `buf lint` and proto/buf.yaml; fails on any
# finding. Usage: buf_lint.sh BUF PROTO_DIR GOOGLEAPIS_DIR
# The protos import google/rpc/status.proto from outside proto/, so the lint
# runs on a temporary module holding proto/kpi, proto/buf.yaml and that file.
# A missing tool skips (exit 77) outside CI and fails in CI (CI=true).
set -euo pipefail
buf=$(realpath -m "$1") proto_dir=$(realpath -m "$2") googleapis=$(realpath -m "$3")
missing() {
  echo "buf_lint: $1" >&2
  if [[ ${CI:-} == true ]]; then exit 1; fi
  echo "buf_lint: skipped (not in CI); make deps installs it" >&2
  exit 77
}
[[ -x $buf ]] || missing "buf not found at $buf"
[[ -f $googleapis/google/rpc/status.proto ]] ||
  missing "google/rpc/status.proto not found under $googleapis"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/module/google/rpc"
cp -r "$proto_dir/kpi" "$work/module/"
cp "$proto_dir/buf.yaml" "$work/module/"
cp "$googleapis/google/rpc/status.proto" "$work/module/google/rpc/"
export BUF_CACHE_DIR=$work/cache
# Every file of ours must be linted: count them in buf's own listing.
listed=$(cd "$work/module" && "$buf" ls-files | grep -c '^kpi/' || true)
expected=$(find "$proto_dir/kpi" -name '*.proto' | wc -l)
if [[ $listed -ne $expected || $expected -eq 0 ]]; then
  echo "buf_lint: buf sees $listed of our $expected .proto files" >&2
  exit 1
fi
if ! (cd "$work/module" && "$buf" lint --error-format=text); then
  echo "buf_lint: findings above (rules: proto/buf.yaml)" >&2
  exit 1
fi
echo "buf_lint: $expected files, no findings"
