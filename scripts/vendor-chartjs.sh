#!/usr/bin/env bash
# Vendor Chart.js from the npm registry into static/vendor/chartjs (make vendor).
# The file is committed, so neither setup nor run time needs npm or a CDN; this script
# is how it was fetched and how to update it. SHA256SUMS records what was vendored.
set -euo pipefail
VERSION="${CHARTJS_VERSION:-4.6.1}"
cd "$(dirname "$0")/.."
dest=static/vendor/chartjs
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "chart.js@${VERSION}" >/dev/null && tar xzf "chart.js-${VERSION}.tgz")
mkdir -p "$dest"
install -m 644 "$work/package/dist/chart.umd.min.js" "$dest/chart.umd.min.js"
# The source map is not shipped: drop the comment that points at it, or collectstatic's
# manifest storage fails on the missing file.
sed -i '/^\/\/# sourceMappingURL=/d' "$dest/chart.umd.min.js"
install -m 644 "$work/package/LICENSE.md" "$dest/LICENSE.md"
echo "chart.js ${VERSION} from the npm registry (sourceMappingURL comment removed)" > "$dest/VERSION"
(cd "$dest" && sha256sum chart.umd.min.js LICENSE.md > SHA256SUMS)
echo "vendored chart.js ${VERSION} into ${dest}"
