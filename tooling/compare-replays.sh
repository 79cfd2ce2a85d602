#!/usr/bin/env bash
# Replays event files with an earlier revision and with this checkout, and says whether the alert
# transitions are the same bytes (how a change that must not change alerts is checked).
#
#   tooling/compare-replays.sh <base-rev> <events.jsonl>...
#
# With COMPARE_KEEP=<dir>, the outputs that differ are kept there (<name>.base, <name>.here).
#
# The base is a git worktree of <base-rev> in a temporary directory. Its node_modules is a
# directory of its own: the external packages linked to this checkout's, and @tillwatch/* linked
# to the worktree's own packages. (A worktree whose node_modules is a link to this checkout's
# would resolve @tillwatch/* to this checkout's packages, through their symlinks' real paths,
# and compare this checkout with itself.) Prints one line per file and exits 1 if any differ.
set -euo pipefail

if [ "$#" -lt 2 ]; then
  echo "usage: $0 <base-rev> <events.jsonl>..." >&2
  exit 2
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
rev="$(git -C "$here" rev-parse --verify "$1^{commit}")"
shift
work="$(mktemp -d /tmp/tillwatch-compare-XXXXXX)"
base="$work/base"
cleanup() {
  git -C "$here" worktree remove --force "$base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

git -C "$here" worktree add --detach -q "$base" "$rev"
mkdir "$base/node_modules"
for e in $(ls -A "$here/node_modules"); do
  [ "$e" = "@tillwatch" ] || ln -s "$here/node_modules/$e" "$base/node_modules/$e"
done
mkdir "$base/node_modules/@tillwatch"
for l in "$here"/node_modules/@tillwatch/*; do
  # the workspace links are relative (../../packages/x): the same target inside the worktree
  ln -s "$(readlink "$l")" "$base/node_modules/@tillwatch/$(basename "$l")"
done
for d in services/gateway dashboards/web; do
  if [ -d "$here/$d/node_modules" ] && [ -d "$base/$d" ]; then
    ln -s "$here/$d/node_modules" "$base/$d/node_modules"
  fi
done
resolved="$(cd "$base/services/tillwatch" && node -e "console.log(require.resolve('@tillwatch/rules'))")"
case "$resolved" in
  "$base"/*) ;;
  *)
    echo "the base resolves @tillwatch/rules to $resolved, not its own" >&2
    exit 1
    ;;
esac

replay() { # <checkout> <input> <output>: prints the CPU seconds
  (cd "$1/services/tillwatch" &&
    /usr/bin/time -f '%U' npx tsx src/cli.ts replay -i "$2" -o "$3" 2>&1 >/dev/null | tail -1)
}

status=0
for f in "$@"; do
  name="$(basename "$f")"
  b="$(replay "$base" "$(realpath "$f")" "$work/$name.base")"
  h="$(replay "$here" "$(realpath "$f")" "$work/$name.here")"
  n="$(wc -l <"$work/$name.here")"
  if cmp -s "$work/$name.base" "$work/$name.here"; then
    echo "$name: identical, $n alert transitions (CPU s: base $b, this $h)"
  else
    echo "$name: DIFFERENT ($(wc -l <"$work/$name.base") vs $n alert transitions; CPU s: base $b, this $h)"
    status=1
    if [ -n "${COMPARE_KEEP:-}" ]; then
      mkdir -p "$COMPARE_KEEP"
      cp "$work/$name.base" "$work/$name.here" "$COMPARE_KEEP/"
    fi
  fi
done
exit $status
