#!/bin/sh
# make_certs.sh DIR - throwaway TLS material for the ext/tls tests, made with
# the openssl command: a CA (ca.pem, ca.key), a server certificate it signs
# for localhost and 127.0.0.1 (srv.pem, srv.key), and an unrelated CA
# (other-ca.pem) that must not verify it. EC P-256 keys: quick to make.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
rm -f ca.* srv.* other-ca.*
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=WATER test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
key srv.key
openssl req -new -key srv.key -out srv.csr -subj "/CN=localhost"
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > srv.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
    -days 2 -extfile srv.ext 2>/dev/null
key other-ca.key
openssl req -x509 -new -key other-ca.key -out other-ca.pem -days 2 -subj "/CN=Other CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
openssl verify -CAfile ca.pem srv.pem >/dev/null
echo "certificates in $dir"
