#!/bin/sh
# Certificates for mutual TLS between the relflow workers, the CLI, the Web UI and the Temporal
# frontend (docker-compose.yml mounts ./certs). A private CA signs:
#   server.pem/.key  the Temporal server (frontend and internode), names: temporal, localhost, 127.0.0.1
#   worker.pem/.key  the relflow worker and CLI (TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH)
#   build-worker.pem/.key  the build worker, an identity of its own
#   ui.pem/.key      the Temporal Web UI's connection to the frontend
# Usage: scripts/gen-certs.sh [DIR] (default ./certs). Existing files are kept; delete DIR to rotate.
set -eu
dir=${1:-certs}
days=${RELFLOW_CERT_DAYS:-825}
mkdir -p "$dir"
cd "$dir"
umask 077

key() { [ -f "$1.key" ] || openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"; }

if [ ! -f ca.pem ]; then
  key ca
  openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=relflow CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
fi

# leaf NAME COMMON-NAME EXTENDED-KEY-USAGE [SUBJECT-ALT-NAMES]
leaf() {
  [ -f "$1.pem" ] && return 0
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$3"
    [ -n "${4:-}" ] && echo "subjectAltName=$4"
  } > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$days" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

# The server also dials itself (internode, and its worker service to the frontend): server and client use.
leaf server temporal serverAuth,clientAuth "DNS:temporal,DNS:localhost,IP:127.0.0.1"
leaf worker relflow-worker clientAuth
leaf build-worker relflow-build-worker clientAuth
leaf ui temporal-ui clientAuth
chmod 644 ./*.pem
echo "certificates in $(pwd): ca.pem, server.pem/.key, worker.pem/.key, build-worker.pem/.key, ui.pem/.key (ca.key: keep it here, mount it nowhere)"
