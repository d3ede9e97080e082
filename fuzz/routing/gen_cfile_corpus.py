#!/usr/bin/env python3
"""Write the seed corpus of fuzz_routing_cfile (the contacts file, routing/cfile.h):
valid files (0, 1, 3 contacts), plus truncated, foreign-version and bad-key ones. Each seed is
stored without its trailing checksum only when noted: the target also tries every input with
a valid checksum appended."""
import hashlib, os, struct, sys

def b2(x): return hashlib.blake2b(x, digest_size=32).digest()
def uv(n):
    out = b''
    while n >= 0x80:
        out += bytes([n & 0x7f | 0x80]); n >>= 7
    return out + bytes([n])
def lb(x): return uv(len(x)) + x
def contact(i, addrs):
    ed = bytes([i + 1]) * 32
    body = b2(ed) + ed + b'\0' * 32 + struct.pack('>I', 1)
    body += uv(len(addrs)) + b''.join(lb(b'quic') + lb(a.encode()) for a in addrs)
    return body
def body(self_id, contacts, version=1):
    return b'nnctcts' + bytes([version]) + self_id + struct.pack('>H', len(contacts)) + b''.join(contacts)
def whole(b): return b + b2(b)

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'cfile')
os.makedirs(out, exist_ok=True)
me = bytes(range(32))
seeds = {
    'empty_valid': whole(body(me, [])),
    'one_valid': whole(body(me, [contact(1, ['127.0.0.1:4001'])])),
    'three_valid': whole(body(me, [contact(1, ['127.0.0.1:4001']),
                                   contact(2, ['[::1]:4002', '10.0.0.2:4002']),
                                   contact(3, [])])),
    'body_only': body(me, [contact(4, ['127.0.0.4:4004'])]),          # sum appended by the target
    'truncated': whole(body(me, [contact(1, ['127.0.0.1:4001'])]))[:-40],
    'version2': whole(body(me, [contact(1, ['127.0.0.1:4001'])], version=2)),
    'bad_key': whole(body(me, [b'\x55' * 32 + contact(1, ['127.0.0.1:1'])[32:]])),
    'bad_addr': whole(body(me, [contact(1, ['not an address'])])),
    'count_lie': whole(b'nnctcts\x01' + me + struct.pack('>H', 300)),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
