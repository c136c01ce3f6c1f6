#!/bin/sh
# install.sh: install agent on a Linux machine, upgrade it in place, or remove it.
#
#   curl -fsSL <base>/install.sh | sh                              install or upgrade
#   curl -fsSL <base>/install.sh | sh -s -- --no-systemd           without the systemd unit
#   curl -fsSL <base>/install.sh | sh -s -- --uninstall [--purge]  remove it
#
# Flags:
#   --no-systemd  do not write, enable or restart agent.service
#   --bundle      install the portable bundle (Node >= 20 or Deno >= 2) even
#                 where a single executable exists
#   --uninstall   stop the daemon and remove what install.sh installed; keeps
#                 /var/lib/agent (the node's keys and the Raft log)
#   --purge       with --uninstall: remove /var/lib/agent too
# Environment:
#   AGENT_VERSION   the release to install, e.g. 0.1.0 (default: latest)
#   AGENT_BASE_URL  where releases are published (default: where this script came from)
#   AGENT_ROOT      a directory prefixed to every path written (tests, images);
#                   systemctl is never called then
#
# Files are fetched from $AGENT_BASE_URL/$AGENT_VERSION/ (docs/install.md):
# SHA256SUMS, then agent-linux-<arch> (the single executable) if SHA256SUMS
# lists one for this machine, else agent.mjs (the portable bundle), and
# agent.service. Everything is downloaded to a temporary directory and checked
# against SHA256SUMS before anything is written; files are staged beside
# their destination and renamed into place. Any failure prints one line on
# stderr and leaves the machine as it was.
#
# POSIX sh: this is piped to `sh` (dash on Debian, busybox on small devices).

umask 022
set -u

# Stamped by `scripts/release.mjs --base-url URL`; when empty, AGENT_BASE_URL is required.
DEFAULT_BASE_URL=''

BIN=/usr/local/bin/agent
LIB_DIR=/usr/local/lib/agent
UNIT=/etc/systemd/system/agent.service
WANTS=/etc/systemd/system/multi-user.target.wants/agent.service
STATE_DIR=/var/lib/agent

say() { printf 'agent install: %s\n' "$*"; }
# The one line on stderr; the EXIT trap then removes whatever this run staged.
die() {
  printf 'agent install: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
usage: install.sh [--no-systemd] [--bundle] | --uninstall [--purge]
  curl -fsSL <base>/install.sh | sh -s -- [FLAGS]
environment: AGENT_VERSION (default latest), AGENT_BASE_URL, AGENT_ROOT
EOF
}

no_systemd=0
bundle=0
uninstall=0
purge=0
for arg in "$@"; do
  case $arg in
    --no-systemd) no_systemd=1 ;;
    --bundle) bundle=1 ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument \"$arg\" (expected --no-systemd, --bundle, --uninstall, --purge or --help)" ;;
  esac
done
if [ "$purge" = 1 ] && [ "$uninstall" = 0 ]; then die "--purge: only together with --uninstall"; fi
if [ "$uninstall" = 1 ] && [ "$bundle" = 1 ]; then die "--bundle: not with --uninstall"; fi

root=${AGENT_ROOT:-}
case $root in
  '' | /) root='' ;;
  *[[:space:]]*) die "AGENT_ROOT: expected a path without spaces, got \"$root\"" ;;
  /*)
    [ -d "$root" ] || die "AGENT_ROOT: expected an existing directory, got \"$root\""
    root=${root%/}
    ;;
  *) die "AGENT_ROOT: expected an absolute path, got \"$root\"" ;;
esac

os=$(uname -s 2>/dev/null)
[ "$os" = Linux ] || die "agent runs on Linux only; this system is ${os:-unknown}"
if [ -z "$root" ] && [ "$(id -u 2>/dev/null)" != 0 ]; then
  die "must run as root, e.g. curl -fsSL <base>/install.sh | sudo sh"
fi

# systemctl is called only for the real root of a machine booted with systemd
# (sd_booted(3) checks the same directory).
systemd_up=0
if [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemd_up=1; fi
if [ ! -d /run/systemd/system ]; then
  why_not_started='systemd is not running'
elif [ -n "$root" ]; then
  why_not_started='AGENT_ROOT is set'
else
  why_not_started='systemctl is missing'
fi

tmp=''
made=''   # directories this run created, deepest first, removed again if it fails
ok=0      # set once every file is in place
cleanup() {
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
  if [ "$ok" = 0 ]; then
    rm -f "$root$BIN.new" "$root$LIB_DIR/agent.new.mjs" "$root$UNIT.new"
    for d in $made; do rmdir "$d" 2>/dev/null; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# mkdir -p that remembers which directories were new.
mkdir_p() {
  [ -d "$1" ] && return 0
  [ -n "${1%/*}" ] && mkdir_p "${1%/*}"
  mkdir "$1" 2>/dev/null || die "could not create $1"
  made="$1 $made"
}

# Last non-empty line of a file, for the one line that explains a failure.
last_line() { awk '{ sub(/\r$/, "") } NF { l = $0 } END { print l }' "$1" 2>/dev/null; }

if [ "$uninstall" = 1 ]; then
  if [ ! -e "$root$BIN" ] && [ ! -e "$root$UNIT" ] && [ ! -e "$root$LIB_DIR" ] && { [ "$purge" = 0 ] || [ ! -e "$root$STATE_DIR" ]; }; then
    say "agent is not installed under ${root:-/}"
    ok=1
    exit 0
  fi
  if [ "$systemd_up" = 1 ] && [ -e "$UNIT" ]; then
    # Stops the daemon only (KillMode=process): endpoints and tasks keep running.
    # A daemon that would not stop keeps its files: removing them under it would say "removed" of a running agent.
    if ! stop_err=$(systemctl disable --now --quiet agent.service 2>&1 </dev/null); then
      die "could not stop agent.service ($(printf '%s\n' "$stop_err" | awk 'NF { l = $0 } END { print l }')); nothing removed"
    fi
  fi
  rm -f "$root$WANTS" "$root$UNIT" "$root$UNIT.new"
  if [ "$systemd_up" = 1 ]; then systemctl daemon-reload >/dev/null 2>&1; fi
  rm -f "$root$BIN" "$root$BIN.new" "$root$LIB_DIR/agent.mjs" "$root$LIB_DIR/agent.new.mjs"
  if [ -d "$root$LIB_DIR" ]; then rmdir "$root$LIB_DIR" 2>/dev/null; fi
  ok=1
  if [ "$purge" = 1 ]; then
    rm -rf "$root$STATE_DIR"
    say "removed agent and its state ($root$STATE_DIR)"
  else
    say "removed agent; kept $root$STATE_DIR (this node's keys, certificates and Raft log); --uninstall --purge removes it"
  fi
  exit 0
fi

if command -v curl >/dev/null 2>&1; then
  fetcher=curl
elif command -v wget >/dev/null 2>&1; then
  fetcher=wget
else
  die "needs curl or wget to download the release; install one of them and run this again"
fi
if command -v sha256sum >/dev/null 2>&1; then
  hasher=sha256sum
elif command -v shasum >/dev/null 2>&1; then
  hasher=shasum
else
  die "needs sha256sum or shasum to check the download; install coreutils and run this again"
fi
for tool in install mktemp awk; do
  command -v "$tool" >/dev/null 2>&1 || die "needs $tool; install it and run this again"
done

base=${AGENT_BASE_URL:-$DEFAULT_BASE_URL}
[ -n "$base" ] || die "AGENT_BASE_URL is not set: the URL releases are published under, e.g. AGENT_BASE_URL=https://example.com/agent"
base=${base%/}
version=${AGENT_VERSION:-latest}
version=${version#v}
case $version in
  '' | .* | *[!A-Za-z0-9._+-]*) die "AGENT_VERSION: expected a version such as 0.1.0, or latest; got \"${AGENT_VERSION:-}\"" ;;
esac
url="$base/$version"

tmp=$(mktemp -d 2>/dev/null) || die "could not create a temporary directory in ${TMPDIR:-/tmp}"

# fetch NAME: $url/NAME to $tmp/NAME.
fetch() {
  if [ "$fetcher" = curl ]; then
    curl -fsSL -o "$tmp/$1" "$url/$1" 2>"$tmp/err"
  else
    wget -q -O "$tmp/$1" "$url/$1" 2>"$tmp/err"
  fi
  rc=$?
  [ "$rc" = 0 ] && return 0
  why=$(last_line "$tmp/err")
  die "could not download $url/$1: ${why:-$fetcher exited with status $rc}"
}

sum_of() { awk -v f="$1" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS"; }

hash_of() {
  if [ "$hasher" = sha256sum ]; then sha256sum "$1"; else shasum -a 256 "$1"; fi 2>/dev/null | awk '{ print $1 }'
}

# verify NAME: $tmp/NAME against its line in SHA256SUMS.
verify() {
  want=$(sum_of "$1")
  [ -n "$want" ] || die "$url/SHA256SUMS lists no $1; nothing was installed"
  got=$(hash_of "$tmp/$1")
  [ "$got" = "$want" ] || die "checksum mismatch for $url/$1 (SHA256SUMS: $want, downloaded: ${got:-unreadable}); nothing was installed"
}

# The bundle's runtime: Node >= 20, else Deno >= 2, by absolute path so that
# the wrapper finds the same one under systemd's PATH.
runtime=''
runtime_path=''
found=''
find_runtime() {
  if p=$(command -v node 2>/dev/null); then
    v=$("$p" --version 2>/dev/null)
    v=${v#v}
    if [ "${v%%.*}" -ge 20 ] 2>/dev/null; then
      runtime=node runtime_path=$p
      return 0
    fi
    found="$found, node ${v:-(no version)} at $p"
  fi
  if p=$(command -v deno 2>/dev/null); then
    v=$("$p" --version 2>/dev/null | awk 'NR == 1 { print $2 }')
    if [ "${v%%.*}" -ge 2 ] 2>/dev/null; then
      runtime=deno runtime_path=$p
      return 0
    fi
    found="$found, deno ${v:-(no version)} at $p"
  fi
  return 1
}
run_bundle() {
  if [ "$runtime" = node ]; then
    "$runtime_path" "$@"
  else
    DENO_NO_UPDATE_CHECK=1 "$runtime_path" run -A --no-config "$@"
  fi
}

say "fetching $url/SHA256SUMS"
fetch SHA256SUMS

arch=$(uname -m 2>/dev/null)
case $arch in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
esac
exe="agent-linux-$arch"
if [ "$bundle" = 0 ] && [ -n "$(sum_of "$exe")" ]; then
  artifact=$exe
else
  artifact=agent.mjs
  if ! find_runtime; then
    if [ "$bundle" = 1 ]; then
      lead="--bundle:"
    else
      lead="this release has no single executable for ${arch:-this machine}, and"
    fi
    found=${found#, }
    die "$lead the portable bundle needs Node >= 20 or Deno >= 2 on PATH (found: ${found:-neither})"
  fi
  case $runtime_path in *[\"\\\$\`]*) die "cannot write a wrapper for $runtime_path (a quote, backslash, \$ or backquote in the path)" ;; esac
fi

say "fetching $url/$artifact"
fetch "$artifact"
verify "$artifact"
if [ "$no_systemd" = 0 ]; then
  fetch agent.service
  verify agent.service
fi

# Stage every file beside its destination (same file system, so the renames
# below are atomic), and run the staged program once before committing.
had=0
old=''
if [ -e "$root$BIN" ]; then
  had=1
  old=$("$root$BIN" --version 2>/dev/null </dev/null)
fi
mkdir_p "$root${BIN%/*}"
if [ "$artifact" = agent.mjs ]; then
  mkdir_p "$root$LIB_DIR"
  install -m 0644 "$tmp/agent.mjs" "$root$LIB_DIR/agent.new.mjs" 2>/dev/null || die "could not write $root$LIB_DIR"
  # The wrapper finds the bundle beside its own bin/ directory, so it works
  # under AGENT_ROOT as well as at /usr/local/bin. The runtime is named by the
  # absolute path checked above: systemd's PATH may not reach it.
  if [ "$runtime" = node ]; then run="\"$runtime_path\""; else run="\"$runtime_path\" run -A --no-config"; fi
  cat >"$tmp/wrapper" <<EOF
#!/bin/sh
# agent: the portable bundle on $runtime, written by install.sh (run it again to upgrade).
export DENO_NO_UPDATE_CHECK=1
self=\$(readlink -f "\$0" 2>/dev/null || printf '%s' "\$0")
exec $run "\${self%/bin/*}/lib/agent/agent.mjs" "\$@"
EOF
  install -m 0755 "$tmp/wrapper" "$root$BIN.new" 2>/dev/null || die "could not write $root$BIN.new"
  line=$(run_bundle "$root$LIB_DIR/agent.new.mjs" --version 2>"$tmp/err" </dev/null)
  what="agent.mjs on $runtime_path"
else
  install -m 0755 "$tmp/$artifact" "$root$BIN.new" 2>/dev/null || die "could not write $root$BIN.new"
  line=$("$root$BIN.new" --version 2>"$tmp/err" </dev/null)
  what=$artifact
fi
case $line in
  'agent version '*) installed=${line#agent version } ;;
  *)
    why=$(last_line "$tmp/err")
    hint=''
    if [ "$artifact" != agent.mjs ]; then hint='; --bundle installs the portable bundle for Node >= 20 or Deno >= 2 instead'; fi
    die "$what does not run on this machine (${why:-no version printed})$hint"
    ;;
esac
if [ "$version" != latest ] && [ "$installed" != "$version" ]; then
  die "$url/$artifact is version $installed, not $version; nothing was installed"
fi
if [ "$no_systemd" = 0 ]; then
  mkdir_p "$root${UNIT%/*}"
  install -m 0644 "$tmp/agent.service" "$root$UNIT.new" 2>/dev/null || die "could not write $root$UNIT.new"
fi
mkdir_p "$root$STATE_DIR"
chmod 0700 "$root$STATE_DIR" 2>/dev/null || die "could not set mode 0700 on $root$STATE_DIR"

# Commit: renames only.
mv -f "$root$BIN.new" "$root$BIN" || die "could not move $root$BIN into place"
if [ "$artifact" = agent.mjs ]; then
  mv -f "$root$LIB_DIR/agent.new.mjs" "$root$LIB_DIR/agent.mjs" || die "could not move $root$LIB_DIR/agent.mjs into place"
else
  # A bundle installed earlier is replaced by the executable.
  rm -f "$root$LIB_DIR/agent.mjs"
  if [ -d "$root$LIB_DIR" ]; then rmdir "$root$LIB_DIR" 2>/dev/null; fi
fi
if [ "$no_systemd" = 0 ]; then mv -f "$root$UNIT.new" "$root$UNIT" || die "could not move $root$UNIT into place"; fi
ok=1

if [ "$had" = 1 ]; then
  old=${old#agent version }
  say "upgraded $root$BIN: ${old:-unknown} -> $installed ($what)"
else
  say "installed $root$BIN: agent version $installed ($what)"
fi

if [ "$no_systemd" = 1 ]; then
  say "--no-systemd: no unit written; start the daemon with: agent daemon"
elif [ "$systemd_up" = 1 ]; then
  if ! systemctl daemon-reload 2>"$tmp/err" || ! systemctl enable --quiet agent.service 2>"$tmp/err" || ! systemctl restart agent.service 2>"$tmp/err"; then
    die "agent $installed is installed, but agent.service did not start ($(last_line "$tmp/err")); see journalctl -u agent"
  fi
  say "agent.service enabled and (re)started; logs: journalctl -u agent"
else
  # What `systemctl enable` would do, for the next boot.
  mkdir_p "$root${WANTS%/*}"
  ln -sf "$UNIT" "$root$WANTS" || die "could not enable agent.service ($root$WANTS)"
  say "$why_not_started: agent.service is enabled for the next boot, not started"
fi
