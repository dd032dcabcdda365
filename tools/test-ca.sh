#!/usr/bin/env bash
# test-ca.sh - a throw-away certificate authority for zkr's TLS tests, made with openssl.
#
# Usage:
#   test-ca.sh DIR     create DIR (must not exist or be empty) and write into it, all PEM, EC P-256:
#     ca.pem                 the test CA's certificate (a trust store: ZooKeeper's and the client's)
#     server.pem             key + certificate for 127.0.0.1 and localhost (subjectAltName IP and
#                            DNS), signed by the test CA: a ZooKeeper PEM key store
#     other-ca.pem           a second, unrelated CA
#     other-server.pem       key + certificate for 127.0.0.1/localhost signed by the second CA
#     expired-server.pem     key + certificate for 127.0.0.1/localhost, test CA, expired in 2020
#     wrong-host-server.pem  key + certificate for wrong-host.invalid only, test CA
#     client.pem, client.key a client certificate (test CA) and its unencrypted key
#     client-encrypted.key   the same key encrypted (AES-256) with the password in
#     client-key-password    (one line, no newline)
#   Each NAME-server.pem also exists as NAME-server.crt and NAME-server.key (server.crt and
#   server.key for server.pem). CA keys stay in DIR/private. Prints DIR's absolute path.
#   Exit 1 on failure (DIR is removed).
set -euo pipefail

die() { echo "test-ca.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
dir=$1
if [[ -e $dir ]]; then
  [[ -d $dir && -z $(ls -A "$dir") ]] || die "$dir exists and is not an empty directory"
fi
command -v openssl >/dev/null || die "openssl not found (Debian package openssl)"
mkdir -p "$dir/private"
dir=$(cd "$dir" && pwd -P)
trap 'rm -rf "$dir"' EXIT
cd "$dir"

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# make_ca NAME: private/NAME.key and NAME.pem, a self-signed CA certificate.
make_ca() {
  new_key "private/$1.key"
  openssl req -x509 -new -key "private/$1.key" -out "$1.pem" -days 30 -subj "/CN=zkr $1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# sign NAME CA SUBJECT_ALT_NAME EXTENDED_KEY_USAGE [START END]: NAME.key, NAME.crt signed by CA
# (valid for 30 days from now, or from START to END, YYYYMMDDHHMMSSZ, through `openssl ca`, the
# one tool of OpenSSL 3.0 that takes a validity in the past).
sign() {
  local name=$1 ca=$2 san=$3 usage=$4 start=${5:-} end=${6:-}
  new_key "$name.key"
  openssl req -new -key "$name.key" -out "private/$name.csr" -subj "/CN=$name"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n%s\n' \
    "$usage" "${san:+subjectAltName=$san}" >"private/$name.ext"
  if [[ -z $start ]]; then
    openssl x509 -req -in "private/$name.csr" -CA "$ca.pem" -CAkey "private/$ca.key" \
      -CAserial "private/$ca.srl" -CAcreateserial -days 30 -extfile "private/$name.ext" -out "$name.crt" 2>/dev/null
    return
  fi
  local db=private/$name.ca
  mkdir -p "$db"
  : >"$db/index.txt"
  printf '[ca]\ndefault_ca=test\n[test]\ndatabase=%s/index.txt\nnew_certs_dir=%s\nserial=%s/serial\n' \
    "$db" "$db" "$db" >"$db/ca.cnf"
  printf 'default_md=sha256\npolicy=any\n[any]\ncommonName=supplied\n' >>"$db/ca.cnf"
  openssl rand -hex 8 >"$db/serial"
  openssl ca -batch -config "$db/ca.cnf" -cert "$ca.pem" -keyfile "private/$ca.key" \
    -startdate "$start" -enddate "$end" -extfile "private/$name.ext" \
    -in "private/$name.csr" -out "$name.crt" -notext 2>/dev/null
}

# server NAME CA SAN [START END]: NAME.pem, key and certificate in one file (a PEM key store).
server() {
  local name=$1 ca=$2 san=$3; shift 3
  sign "$name" "$ca" "$san" serverAuth "$@"
  cat "$name.key" "$name.crt" >"$name.pem"
}

make_ca ca
make_ca other-ca
server server ca IP:127.0.0.1,DNS:localhost
server other-server other-ca IP:127.0.0.1,DNS:localhost
server expired-server ca IP:127.0.0.1,DNS:localhost 20200101000000Z 20200102000000Z
server wrong-host-server ca DNS:wrong-host.invalid
sign client ca "" clientAuth
mv client.crt client.pem
printf '%s' "zkr-test-$RANDOM$RANDOM" >client-key-password
openssl pkey -in client.key -aes256 -passout file:client-key-password -out client-encrypted.key
chmod 600 ./*.key private/*.key
trap - EXIT
echo "$dir"
