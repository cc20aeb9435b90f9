#!/usr/bin/python3
"""PyKCS11 (Debian's python3-pykcs11) against a PKCS#11 module: generate a
P-256 key pair, sign with CKM_ECDSA_SHA256 (single and multi-part; where
the token lacks it, CKM_ECDSA over the SHA-256 digest), verify through the
module (a tampered signature must fail), and write the raw r||s signature and
the public key's CKA_EC_POINT so the caller can verify them with plain
OpenSSL.

usage: pykcs11_sign.py MODULE PIN LABEL MESSAGE_FILE OUT_DIR
"""
import hashlib
import sys

import PyKCS11
from PyKCS11.LowLevel import CKA_EC_POINT

module, pin, label, message_file, out_dir = sys.argv[1:6]
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
# The first slot with an initialized token (SoftHSM2 adds an empty one).
slot = next(
    s for s in lib.getSlotList(tokenPresent=True)
    if lib.getTokenInfo(s).flags & PyKCS11.CKF_TOKEN_INITIALIZED
)
session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
session.login(pin)

P256 = bytes.fromhex("06082a8648ce3d030107")
public_template = [
    (PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY),
    (PyKCS11.CKA_TOKEN, True),
    (PyKCS11.CKA_VERIFY, True),
    (PyKCS11.CKA_EC_PARAMS, P256),
    (PyKCS11.CKA_LABEL, label),
]
private_template = [
    (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
    (PyKCS11.CKA_TOKEN, True),
    (PyKCS11.CKA_SIGN, True),
    (PyKCS11.CKA_SENSITIVE, True),
    (PyKCS11.CKA_LABEL, label),
]
pub, priv = session.generateKeyPair(
    public_template, private_template, mecha=PyKCS11.MechanismECGENERATEKEYPAIR
)

found = session.findObjects([(PyKCS11.CKA_LABEL, label), (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)])
assert len(found) == 1, f"expected one private key labelled {label}, found {len(found)}"

# The private key's value must not be readable: PyKCS11 reports an
# attribute the token refuses as None, or raises CKR_ATTRIBUTE_SENSITIVE.
try:
    value = session.getAttributeValue(priv, [PyKCS11.CKA_VALUE])[0]
    assert value is None, "CKA_VALUE of a private key was readable"
except PyKCS11.PyKCS11Error as e:
    assert e.value == PyKCS11.CKR_ATTRIBUTE_SENSITIVE, e

message = open(message_file, "rb").read()
# CKM_ECDSA_SHA256 where the token has it (Keyhold); otherwise (SoftHSM2 2.6)
# CKM_ECDSA over the SHA-256 digest: the same signature input.
if PyKCS11.CKM_ECDSA_SHA256 in lib.getMechanismList(slot):
    mech, data, multi_part = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA_SHA256, None), message, True
else:
    mech, data, multi_part = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA, None), hashlib.sha256(message).digest(), False
signature = bytes(session.sign(priv, data, mech))
assert len(signature) == 64, len(signature)
assert session.verify(pub, data, signature, mech), "module rejected its own signature"
tampered = bytearray(signature)
tampered[5] ^= 1
assert not session.verify(pub, data, bytes(tampered), mech), "tampered signature verified"

# Multi-part signing of the same message verifies too (PyKCS11 1.5.11 in
# bookworm has no signInit; the Rust tests cover multi-part there).
if multi_part and hasattr(session, "signInit"):
    session.signInit(priv, mech)
    session.signUpdate(message[:3])
    session.signUpdate(message[3:])
    multi = bytes(session.signFinal())
    assert session.verify(pub, message, multi, mech), "multi-part signature rejected"

point = bytes(session.getAttributeValue(pub, [CKA_EC_POINT])[0])
open(f"{out_dir}/pykcs11.sig", "wb").write(signature)
open(f"{out_dir}/pykcs11.point", "wb").write(point)
session.logout()
session.closeSession()
print("pykcs11: ok")
