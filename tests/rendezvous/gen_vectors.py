#!/usr/bin/env python3
"""gen_vectors.py — recompute the rendezvous golden vectors of test_rendezvous.c with an
independent implementation (pyca/cryptography), straight from the v1 layouts. Prints C-ready hex.
Not run by the suite; run it by hand when a vector is in doubt."""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def hkdf_extract(salt, ikm):
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def identity(seed):
    prk = hkdf_extract(b"", seed)
    ed = Ed25519PrivateKey.from_private_bytes(hkdf_expand(prk, b"nodenet/v1/identity-ed25519", 32))
    xs = hkdf_expand(prk, b"nodenet/v1/kex-x25519", 32)
    ed_pub = ed.public_key().public_bytes(**RAW)
    x_pub = X25519PrivateKey.from_private_bytes(xs).public_key().public_bytes(**RAW)
    nid = hashlib.blake2b(ed_pub, digest_size=32).digest()
    return ed, ed_pub, xs, x_pub, nid


def uvarint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def addr(net, ep):
    return uvarint(len(net)) + net + uvarint(len(ep)) + ep


sender = identity(bytes(range(1, 33)))
rcpt = identity(bytes(range(0x21, 0x41)))
addrs = uvarint(2) + addr(b"quic", b"1.2.3.4:5678") + addr(b"mem", b"hub-a")
nonce = bytes(range(0xA0, 0xB0))

body = sender[3] + addrs + nonce
sig = sender[0].sign(b"nodenet/v1/rendezvous-hello" + rcpt[4] + body)
print("HELLO", (body + sig).hex())

rbody = rcpt[1] + rcpt[3] + addrs + nonce
rsig = rcpt[0].sign(b"nodenet/v1/rendezvous-reply" + rbody)
print("REPLY", (rbody + rsig).hex())

eph_sk = bytes(range(0x41, 0x61))
eph_pub = X25519PrivateKey.from_private_bytes(eph_sk).public_key().public_bytes(**RAW)
shared = X25519PrivateKey.from_private_bytes(eph_sk).exchange(X25519PublicKey.from_public_bytes(rcpt[3]))
okm = hkdf_expand(hkdf_extract(b"", shared), b"nodenet/v1/sealed-box", 44)
ts = 1700000000123456789
pt = b"hello, sealed world"
aad = b"aad-v1"
ct = ChaCha20Poly1305(okm[:32]).encrypt(okm[32:44], pt, aad)
tsb = struct.pack(">q", ts)
bsig = sender[0].sign(b"nodenet/v1/sealed-box-sig" + eph_pub + rcpt[3] + tsb + ct)
print("BOX", (eph_pub + sender[1] + tsb + uvarint(len(ct)) + ct + bsig).hex())
print("RCPT_ID", rcpt[4].hex())
