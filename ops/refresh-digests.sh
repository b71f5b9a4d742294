#!/usr/bin/env bash
# Re-pins every base image of the Dockerfiles to the digest its tag points at today.
#   bash ops/refresh-digests.sh          # rewrite the ARG *_IMAGE=tag@sha256:... lines
#   bash ops/refresh-digests.sh --check  # only report pins that differ (exit 1 if any)
# Needs a Docker CLI with buildx and registry access (a developer machine or CI with network),
# then rebuild, run the tests and commit the new digests together.
# The digest is the multi-platform index digest, so the pin holds on amd64 and arm64 alike.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
check=0
[[ ${1:-} == --check ]] && check=1
changed=0
for file in "$repo_root"/Dockerfile.service "$repo_root"/nginx/Dockerfile; do
  while IFS= read -r line; do
    ref=${line#*=}
    tag=${ref%@*}
    old=${ref#*@}
    new=$(docker buildx imagetools inspect "$tag" --format '{{json .Manifest}}' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).digest))')
    [[ $new =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "refresh-digests: no digest for $tag" >&2; exit 1; }
    if [[ $new != "$old" ]]; then
      changed=1
      echo "${file#"$repo_root"/}: $tag $old -> $new"
      ((check)) || sed -i "s|$tag@$old|$tag@$new|g" "$file"
    fi
  done < <(grep -E '^ARG [A-Z_]+_IMAGE=' "$file")
done
((check && changed)) && exit 1
exit 0
