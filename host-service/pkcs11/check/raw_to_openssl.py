#!/usr/bin/python3
"""Turns PKCS#11 ECDSA output into what OpenSSL reads: a raw r||s signature
into a DER ECDSA-Sig-Value (RFC 3279 §2.2.3), and a P-256 CKA_EC_POINT (DER
OCTET STRING of the uncompressed point) into a SubjectPublicKeyInfo
(RFC 5480 §2).

usage: raw_to_openssl.py SIG_IN SIG_DER_OUT POINT_IN SPKI_DER_OUT
"""
import sys


def der_len(n):
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


def der_int(b):
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return b"\x02" + der_len(len(b)) + b


sig_in, sig_out, point_in, spki_out = sys.argv[1:5]
raw = open(sig_in, "rb").read()
half = len(raw) // 2
body = der_int(raw[:half]) + der_int(raw[half:])
open(sig_out, "wb").write(b"\x30" + der_len(len(body)) + body)

point = open(point_in, "rb").read()
assert point[0] == 0x04 and point[1] == len(point) - 2, "CKA_EC_POINT is not a DER OCTET STRING"
q = point[2:]
assert len(q) == 65 and q[0] == 0x04, "not an uncompressed P-256 point"
alg = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
bits = b"\x03" + der_len(len(q) + 1) + b"\x00" + q
body = alg + bits
open(spki_out, "wb").write(b"\x30" + der_len(len(body)) + body)
