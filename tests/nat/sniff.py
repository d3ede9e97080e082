#!/usr/bin/env python3
"""sniff.py OUT SECONDS — a packet capture without tcpdump (Python stdlib, needs root): every
frame on every interface of the current network namespace for SECONDS, written to OUT as
length-prefixed records (4-byte big-endian length, then the frame). Runs inside a lab
namespace (natlab's Lab.popen); the nat-pairs test greps the capture for a known payload."""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def main():
    out, seconds = sys.argv[1], float(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    with open(out, "wb") as f:
        print("sniffing", flush=True)
        while time.monotonic() < end:
            try:
                frame = s.recv(65535)
            except socket.timeout:
                continue
            f.write(struct.pack(">I", len(frame)) + frame)
    return 0


def udp_datagrams(path):
    """(sport, dport, payload) of every IPv4 UDP datagram in a capture (ethernet frames)."""
    with open(path, "rb") as f:
        data = f.read()
    off, out = 0, []
    while off + 4 <= len(data):
        (n,) = struct.unpack(">I", data[off:off + 4])
        frame = data[off + 4:off + 4 + n]
        off += 4 + n
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17 or len(ip) < ihl + 8:
            continue
        sport, dport = struct.unpack(">HH", ip[ihl:ihl + 4])
        out.append((sport, dport, ip[ihl + 8:]))
    return out


if __name__ == "__main__":
    sys.exit(main())
