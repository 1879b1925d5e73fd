# Shared by scripts/test and scripts/demo: installing what the desktop app needs on Debian or
# Ubuntu, and the JavaScript packages. Sourced, not run.

log() { printf '\n==> %s\n' "$*"; }

# The Debian packages a desktop build needs (WebKitGTK and friends), and those the tests add.
DESKTOP_PACKAGES=(build-essential pkg-config curl libssl-dev libwebkit2gtk-4.1-dev librsvg2-dev
  libayatana-appindicator3-dev)

# Installs the Debian packages named that are missing (apt-get, with sudo when not root).
install_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Node 20 or newer with npm; the project pins its packages in package-lock.json files.
require_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    install_debian_packages nodejs npm
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "Node.js 20 or newer is needed (found $(node --version)); see https://nodejs.org" >&2
    exit 1
  fi
}

# The root tooling (Tauri CLI, WebdriverIO) and the UI's packages, exactly as locked.
install_js_packages() {
  log "npm ci (tooling and ui/)"
  npm ci --no-audit --no-fund --loglevel=error
  npm ci --prefix ui --no-audit --no-fund --loglevel=error
}
