#!/usr/bin/env bash
# Re-vendors the containerd 1.6 and google.rpc .proto files hull needs from
# Debian's Go source packages (installed by tools/setup), stripping the gogoproto
# and containerd fieldpath options that plain protoc cannot resolve. Field
# numbers, names and types are untouched, so the wire format is containerd's.
# Usage: shim/proto/vendor.sh   (run from anywhere; rewrites shim/proto/vendor/)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
gocode=/usr/share/gocode/src
files=(
  github.com/containerd/containerd/runtime/v2/task/shim.proto
  github.com/containerd/containerd/api/types/mount.proto
  github.com/containerd/containerd/api/types/task/task.proto
  github.com/containerd/containerd/api/events/task.proto
  github.com/containerd/containerd/api/services/ttrpc/events/v1/events.proto
  # The Task Stats payload for a cgroup-v2 guest (Debian golang-github-containerd-cgroups-dev,
  # which golang-github-containerd-containerd-dev depends on).
  github.com/containerd/cgroups/v2/stats/metrics.proto
)
for f in "${files[@]}"; do
  if [[ ! -f $gocode/$f ]]; then
    echo "vendor.sh: $gocode/$f is missing; install golang-github-containerd-containerd-dev and golang-github-containerd-cgroups-dev (tools/setup)" >&2
    exit 1
  fi
done
status=$gocode/github.com/gogo/googleapis/google/rpc/status.proto
[[ -f $status ]] || { echo "vendor.sh: $status is missing; install golang-github-gogo-googleapis-dev" >&2; exit 1; }

rm -rf "$here/vendor"
for f in "${files[@]}"; do
  mkdir -p "$here/vendor/$(dirname "$f")"
  python3 - "$gocode/$f" "$here/vendor/$f" <<'PY'
import re, sys
src, dst = sys.argv[1], sys.argv[2]
text = open(src).read()
# Drop the option-only imports and file/message/enum level options.
text = re.sub(r'^import weak "[^"]*";\n', '', text, flags=re.M)
text = re.sub(r'^\s*import "gogoproto/gogo.proto";\n', '', text, flags=re.M)
text = re.sub(r'^\s*option \((gogoproto|containerd\.plugin)\.[a-z_]+\) = [^;]*;\n', '', text, flags=re.M)
# Drop gogoproto field options: [(gogoproto.x) = y, (gogoproto.z) = w]
text = re.sub(r'\s*\[\s*\(gogoproto\.[a-z_]+\)\s*=\s*[^\],]+(?:,\s*\(gogoproto\.[a-z_]+\)\s*=\s*[^\],]+)*\]', '', text)
if 'gogoproto' in text or 'containerd.plugin' in text:
    sys.exit(f"vendor.sh: {src}: option left after stripping; extend the patterns")
package = 'containerd/cgroups 1.0 (Debian golang-github-containerd-cgroups-dev)' if '/cgroups/' in src \
    else 'containerd 1.6 (Debian golang-github-containerd-containerd-dev)'
note = (f"// Vendored by hull from {package}\n"
        "// with the gogoproto/fieldpath options removed (shim/proto/vendor.sh); wire format unchanged.\n")
# A .proto shipped without a header (cgroups' metrics.proto) gets its project's
# licence header, the one on every Go file beside it.
licence = """/*
   Copyright The containerd Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/
"""
if '*/' not in text:
    text = licence + '\n' + text
# Keep the licence header first, then the note.
end = text.find('*/')
text = text[:end + 2] + '\n\n' + note + text[end + 2:].lstrip('\n') if end >= 0 else note + text
open(dst, 'w').write(text)
PY
done
mkdir -p "$here/vendor/google/rpc"
cp "$status" "$here/vendor/google/rpc/status.proto"
echo "vendored ${#files[@]} containerd/cgroups protos and google/rpc/status.proto into $here/vendor"
