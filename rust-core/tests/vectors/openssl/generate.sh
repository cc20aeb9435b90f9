#!/bin/sh
# Regenerates the OpenSSL key fixtures used by src/encoding/tests.rs.
# Test keys only: never use them for anything else.
set -eu
cd "$(dirname "$0")"
for curve in secp256k1:secp256k1 p256:prime256v1; do
  name=${curve%%:*}; ossl=${curve#*:}
  # SEC1 ECPrivateKey with the EC PARAMETERS block OpenSSL prints first.
  openssl ecparam -name "$ossl" -genkey -out "$name-sec1.pem"
  openssl ec -in "$name-sec1.pem" -outform DER -out "$name-sec1.der"
  openssl pkcs8 -topk8 -nocrypt -in "$name-sec1.pem" -out "$name-pkcs8.pem"
  openssl pkcs8 -topk8 -nocrypt -in "$name-sec1.pem" -outform DER -out "$name-pkcs8.der"
  openssl pkey -in "$name-sec1.pem" -pubout -out "$name-pub.pem"
  openssl pkey -in "$name-sec1.pem" -pubout -outform DER -out "$name-pub.der"
done
for alg in ed25519 x25519; do
  openssl genpkey -algorithm "$alg" -out "$alg-pkcs8.pem"
  openssl pkey -in "$alg-pkcs8.pem" -outform DER -out "$alg-pkcs8.der"
  openssl pkey -in "$alg-pkcs8.pem" -pubout -out "$alg-pub.pem"
  openssl pkey -in "$alg-pkcs8.pem" -pubout -outform DER -out "$alg-pub.der"
done

# An encrypted PKCS#8 file, which import must refuse.
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:keyhold-test -in p256-sec1.pem -out p256-pkcs8-encrypted.pem
openssl version > openssl-version.txt
