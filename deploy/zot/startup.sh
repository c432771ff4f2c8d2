#!/usr/bin/env bash
# The Zot registry VM's startup script, on every cloud. It reads:
#   zot-version   the Zot release to install (deploy/k8s/base/versions.env)
#   zot-host      the DNS name the registry's TLS certificate is for
#   zot-htpasswd  the login, one bcrypt htpasswd line
#   zot-config    deploy/zot/config.json
#   acme-email    optional: Let's Encrypt's contact for the certificate
# from the environment (ZOT_META_zot_version, ...: deploy/aws/up.sh puts them in
# the EC2 instance's user data, ahead of this script) or else from the GCE
# metadata server (deploy/gke/up.sh passes them as instance metadata). GCE runs
# it as root at every boot; on EC2 cloud-init does, told to by the user data.
# It installs Zot from its official release (checksum verified), gets a
# certificate for zot-host from Let's Encrypt (HTTP-01 on port 80, renewed by
# certbot's timer; retried with backoff, since a shared DNS name such as
# sslip.io can hit Let's Encrypt's rate limits for a while) and runs Zot under
# systemd as its own user. Idempotent: every boot runs it again.
#
# Sourced with ZOT_STARTUP_LIB=1 it only defines its functions (the test
# test/integration/gke.test.ts runs install_zot against a release laid out locally).
set -euo pipefail

# md KEY: the instance's value for KEY: ZOT_META_<KEY, - as _> when the environment has it, else GCE's.
md() {
  local var="ZOT_META_${1//-/_}"
  if [ -n "${!var+x}" ]; then printf '%s\n' "${!var}"; return 0; fi
  curl -fsS -H 'Metadata-Flavor: Google' "http://metadata.google.internal/computeMetadata/v1/instance/attributes/$1"
}

# retry TRIES FIRST-DELAY CMD...: runs CMD until it succeeds, doubling the delay (at most 30 min) between tries.
retry() {
  local tries=$1 delay=$2 i
  shift 2
  for ((i = 1; ; i++)); do
    if "$@"; then return 0; fi
    if ((i >= tries)); then echo "zot-startup: $* failed $tries times" >&2; return 1; fi
    echo "zot-startup: $1 failed (try $i of $tries); again in $delay s" >&2
    sleep "$delay"
    delay=$((delay * 2 > 1800 ? 1800 : delay * 2))
  done
}

# verify_checksum DIR FILE: checks DIR/FILE against DIR/checksums.sha256.txt. Zot's release workflow writes
# each line as "<sha256> *<file>" (binary mode; .github/workflows/build.yaml, job release-checksums), and
# sha256sum itself writes "<sha256>  <file>": both are accepted, and a file without a line is an error.
verify_checksum() {
  local dir=$1 file=$2 line
  line=$(grep -E "^[0-9a-f]{64} [ *]$file\$" "$dir/checksums.sha256.txt" || true)
  if [ -z "$line" ]; then echo "zot-startup: checksums.sha256.txt has no line for $file" >&2; return 1; fi
  (cd "$dir" && printf '%s\n' "$line" | sha256sum --check --strict -)
}

# install_zot VERSION BASE-URL DEST: downloads zot-linux-amd64 and checksums.sha256.txt from BASE-URL,
# verifies the binary and installs it as DEST. Nothing is installed unless the checksum matches.
install_zot() {
  local version=$1 base=$2 dest=$3 tmp ok=0
  if "$dest" --version 2>&1 | grep -q "v$version"; then return 0; fi
  tmp=$(mktemp -d)
  curl -fsSL --retry 5 -o "$tmp/zot-linux-amd64" "$base/zot-linux-amd64" &&
    curl -fsSL --retry 5 -o "$tmp/checksums.sha256.txt" "$base/checksums.sha256.txt" &&
    verify_checksum "$tmp" zot-linux-amd64 &&
    install -D -m 0755 "$tmp/zot-linux-amd64" "$dest" && ok=1
  rm -rf "$tmp"
  [ "$ok" = 1 ]
}

certificate() {
  local host=$1 email=$2 contact
  if [ -f "/etc/letsencrypt/live/$host/fullchain.pem" ]; then return 0; fi
  if [ -n "$email" ]; then contact=(--email "$email"); else contact=(--register-unsafely-without-email); fi
  # 8 tries over about 2 hours: a rate limit on a shared domain clears within hours, not seconds
  retry 8 60 certbot certonly --standalone --non-interactive --agree-tos "${contact[@]}" -d "$host"
}

unit() {
  cat > /etc/systemd/system/zot.service <<'UNIT'
[Unit]
Description=Zot OCI registry
After=network-online.target
Wants=network-online.target

[Service]
User=zot
Group=zot
ExecStart=/usr/local/bin/zot serve /etc/zot/config.json
Restart=on-failure
LimitNOFILE=65536
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
ReadWritePaths=/var/lib/zot

[Install]
WantedBy=multi-user.target
UNIT
}

main() {
  local version host email
  version=$(md zot-version)
  host=$(md zot-host)
  email=$(md acme-email 2>/dev/null || true)

  export DEBIAN_FRONTEND=noninteractive
  if ! command -v certbot >/dev/null; then retry 5 10 apt-get update -q && retry 5 10 apt-get install -y -q certbot; fi
  id zot >/dev/null 2>&1 || useradd --system --home /var/lib/zot --shell /usr/sbin/nologin zot
  install -d -o zot -g zot -m 0750 /var/lib/zot
  install -d -o root -g zot -m 0750 /etc/zot /etc/zot/tls

  install_zot "$version" "https://github.com/project-zot/zot/releases/download/v$version" /usr/local/bin/zot

  md zot-config > /etc/zot/config.json
  md zot-htpasswd > /etc/zot/htpasswd
  chown root:zot /etc/zot/config.json /etc/zot/htpasswd
  chmod 0640 /etc/zot/config.json /etc/zot/htpasswd

  # The certificate: standalone HTTP-01 (port 80, open to the ACME servers by up.sh's firewall rule).
  certificate "$host" "$email"
  install -d /etc/letsencrypt/renewal-hooks/deploy
  cat > /etc/letsencrypt/renewal-hooks/deploy/zot.sh <<HOOK
#!/bin/sh
install -o root -g zot -m 0640 /etc/letsencrypt/live/$host/fullchain.pem /etc/zot/tls/fullchain.pem
install -o root -g zot -m 0640 /etc/letsencrypt/live/$host/privkey.pem /etc/zot/tls/privkey.pem
systemctl try-restart zot
HOOK
  chmod 0755 /etc/letsencrypt/renewal-hooks/deploy/zot.sh
  /etc/letsencrypt/renewal-hooks/deploy/zot.sh

  unit
  systemctl daemon-reload
  systemctl enable zot
  systemctl restart zot
}

if [ "${ZOT_STARTUP_LIB:-0}" != 1 ]; then main "$@"; fi
