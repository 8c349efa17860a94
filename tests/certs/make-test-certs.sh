#!/usr/bin/env bash
# Makes throwaway certificates for the TLS tests in DIR, with Debian's openssl
# (the same steps as the README's security section, valid for 2 days):
#   ca.crt ca.key                 a CA
#   server.crt server.key         signed by it, for localhost, kpi-server and
#                                 127.0.0.1
#   client.crt client.key         signed by it, a client (mutual TLS)
#   other-ca.crt                  another CA, and
#   other-client.crt other-client.key  a client certificate it signed
# Usage: tests/certs/make-test-certs.sh DIR
set -euo pipefail
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() {  # key FILE: a P-256 private key
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}
ca() {  # ca NAME SUBJECT
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 2 -subj "$2" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
}
signed() {  # signed NAME SUBJECT CA EXTENSIONS
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$2"
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" \
    -CAcreateserial -out "$1.crt" -days 2 -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "/O=KPI test/CN=KPI test CA"
signed server "/O=KPI test/CN=localhost" ca \
  "subjectAltName=DNS:localhost,DNS:kpi-server,IP:127.0.0.1
extendedKeyUsage=serverAuth"
signed client "/O=Asahikawa City/OU=Statistics/CN=stats-batch" ca \
  "extendedKeyUsage=clientAuth"
ca other-ca "/O=Someone else/CN=Other CA"
signed other-client "/O=Someone else/CN=intruder" other-ca \
  "extendedKeyUsage=clientAuth"
rm -f ./*.srl
