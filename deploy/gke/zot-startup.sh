#!/usr/bin/env bash
# The Zot registry VM's startup script (GCE runs it as root at every boot;
# deploy/gke/up.sh passes it with the instance metadata it reads):
#   zot-version   the Zot release to install (deploy/k8s/base/versions.env)
#   zot-host      the DNS name the registry's TLS certificate is for
#   zot-htpasswd  the login, one bcrypt htpasswd line
#   zot-config    deploy/zot/config.json
#   acme-email    optional: Let's Encrypt's contact for the certificate
# It installs Zot from its official release (checksum verified), gets a
# certificate for zot-host from Let's Encrypt (HTTP-01 on port 80, renewed by
# certbot's timer) and runs Zot under systemd as its own user. Idempotent.
set -euo pipefail
md() { curl -fsS -H 'Metadata-Flavor: Google' "http://metadata.google.internal/computeMetadata/v1/instance/attributes/$1"; }
VERSION=$(md zot-version)
HOST=$(md zot-host)
EMAIL=$(md acme-email 2>/dev/null || true)

export DEBIAN_FRONTEND=noninteractive
if ! command -v certbot >/dev/null; then apt-get update -q && apt-get install -y -q certbot; fi
id zot >/dev/null 2>&1 || useradd --system --home /var/lib/zot --shell /usr/sbin/nologin zot
install -d -o zot -g zot -m 0750 /var/lib/zot
install -d -o root -g zot -m 0750 /etc/zot /etc/zot/tls

if ! /usr/local/bin/zot --version 2>&1 | grep -q "v$VERSION"; then
  base="https://github.com/project-zot/zot/releases/download/v$VERSION"
  curl -fsSL -o /tmp/zot-linux-amd64 "$base/zot-linux-amd64"
  if curl -fsSL -o /tmp/zot-checksums "$base/checksums.sha256.txt"; then
    (cd /tmp && grep ' zot-linux-amd64$' zot-checksums | sha256sum -c -)
  else
    echo "zot-startup: no checksums.sha256.txt in the release; installed without verifying" >&2
  fi
  install -m 0755 /tmp/zot-linux-amd64 /usr/local/bin/zot
fi

md zot-config > /etc/zot/config.json
md zot-htpasswd > /etc/zot/htpasswd
chown root:zot /etc/zot/config.json /etc/zot/htpasswd
chmod 0640 /etc/zot/config.json /etc/zot/htpasswd

# The certificate: standalone HTTP-01 (port 80, open to the ACME servers by up.sh's firewall rule).
if [ ! -f "/etc/letsencrypt/live/$HOST/fullchain.pem" ]; then
  if [ -n "$EMAIL" ]; then contact=(--email "$EMAIL"); else contact=(--register-unsafely-without-email); fi
  certbot certonly --standalone --non-interactive --agree-tos "${contact[@]}" -d "$HOST"
fi
install -d /etc/letsencrypt/renewal-hooks/deploy
cat > /etc/letsencrypt/renewal-hooks/deploy/zot.sh <<HOOK
#!/bin/sh
install -o root -g zot -m 0640 /etc/letsencrypt/live/$HOST/fullchain.pem /etc/zot/tls/fullchain.pem
install -o root -g zot -m 0640 /etc/letsencrypt/live/$HOST/privkey.pem /etc/zot/tls/privkey.pem
systemctl try-restart zot
HOOK
chmod 0755 /etc/letsencrypt/renewal-hooks/deploy/zot.sh
/etc/letsencrypt/renewal-hooks/deploy/zot.sh

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
ReadWritePaths=/var/lib/zot

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable zot
systemctl restart zot
