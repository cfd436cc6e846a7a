#!/usr/bin/env bash
# One-shot `certs` service of deploy/docker-compose.yml, run as root in the Elasticsearch image (for
# elasticsearch-certutil), in the manner of Elastic's own secured docker-compose example.
#
# Creates, once, a private CA and PEM certificates for Elasticsearch (HTTP and transport) and for the apm-sidecar
# proxy, then sets ownership so that each service can read its own key and nothing else:
#   /certs/ca/ca.crt                         public, every service trusts it (agents too: serverCaCertFile)
#   /certs/elasticsearch/elasticsearch.{crt,key}   uid 1000 (the Elasticsearch user)
#   /certs/proxy/proxy.{crt,key}             uid SIDECAR_UID (the apm-sidecar image's user); the folder is
#                                            world-listable because Elasticsearch walks its whole config dir
#                                            (this volume is its config/certs) and stops on one it cannot open;
#                                            the key itself is 0600
#   /ca/ca.key                               the CA's private key, on its own volume that only this service mounts
# Re-running it changes nothing that exists; to rotate a certificate delete its folder and run the service
# again (docs/operations.md, "Rotating certificates").
set -euo pipefail

CERTS_DIR=/certs
CA_DIR=/ca
SIDECAR_UID="${SIDECAR_UID:-10001}"
SIDECAR_GID="${SIDECAR_GID:-10001}"
ES_UID=1000
DAYS="${CERT_DAYS:-825}"
certutil=/usr/share/elasticsearch/bin/elasticsearch-certutil
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ ! -f "$CA_DIR/ca.key" ]]; then
  echo "certs: creating the CA"
  "$certutil" ca --silent --pem --days "$DAYS" --out "$work/ca.zip"
  unzip -q "$work/ca.zip" -d "$work"
  install -d -m 0700 "$CA_DIR"
  install -m 0600 "$work/ca/ca.key" "$CA_DIR/ca.key"
  install -m 0644 "$work/ca/ca.crt" "$CA_DIR/ca.crt"
fi
# The public copy; restored from the CA volume when only the certificates volume was removed.
install -d -m 0755 "$CERTS_DIR/ca"
[[ -f "$CERTS_DIR/ca/ca.crt" ]] || install -m 0644 "$CA_DIR/ca.crt" "$CERTS_DIR/ca/ca.crt"

# name, then the DNS names and IP addresses the certificate is valid for.
issue() {
  local name="$1" dns="$2" ips="$3"
  if [[ -f "$CERTS_DIR/$name/$name.crt" && -f "$CERTS_DIR/$name/$name.key" ]]; then
    echo "certs: $name certificate exists, kept"
    return
  fi
  echo "certs: issuing the $name certificate (dns: $dns; ip: $ips)"
  {
    echo "instances:"
    echo "  - name: $name"
    echo "    dns: [$dns]"
    echo "    ip: [$ips]"
  } >"$work/$name.yml"
  "$certutil" cert --silent --pem --days "$DAYS" --in "$work/$name.yml" --out "$work/$name.zip" \
    --ca-cert "$CERTS_DIR/ca/ca.crt" --ca-key "$CA_DIR/ca.key"
  unzip -q -o "$work/$name.zip" -d "$work"
  install -d -m 0750 "$CERTS_DIR/$name"
  # The served chain holds the CA too, so clients pinning the CA fingerprint (ca_trusted_fingerprint) can match.
  cat "$work/$name/$name.crt" "$CERTS_DIR/ca/ca.crt" >"$CERTS_DIR/$name/$name.crt"
  install -m 0640 "$work/$name/$name.key" "$CERTS_DIR/$name/$name.key"
}

issue elasticsearch "elasticsearch, localhost" "127.0.0.1, '::1'"
issue proxy "proxy, localhost" "127.0.0.1, '::1'"

chown -R root:root "$CERTS_DIR/ca" "$CA_DIR"
chown -R "$ES_UID:0" "$CERTS_DIR/elasticsearch"
chown -R "$SIDECAR_UID:$SIDECAR_GID" "$CERTS_DIR/proxy"
chmod 0644 "$CERTS_DIR"/*/*.crt
chmod 0640 "$CERTS_DIR/elasticsearch/elasticsearch.key"
chmod 0600 "$CERTS_DIR/proxy/proxy.key"
chmod 0755 "$CERTS_DIR" "$CERTS_DIR/ca" "$CERTS_DIR/proxy"
chmod 0750 "$CERTS_DIR/elasticsearch"

if command -v openssl >/dev/null 2>&1; then
  fingerprint="$(openssl x509 -in "$CERTS_DIR/ca/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d ':' | tr 'A-F' 'a-f')"
  echo "certs: CA fingerprint (output.elasticsearch.ssl.ca_trusted_fingerprint): $fingerprint"
fi
echo "certs: done"
