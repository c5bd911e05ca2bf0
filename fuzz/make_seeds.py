#!/usr/bin/env python3
"""Makes fuzz seeds from a real capture (a tapfault run's capture.pcap). Standard library only.

  make_seeds.py peer CAPTURE OUT [--setup N] [--max-frames K]
      The frames the kernel sent (source MAC not the peer's), as a fuzz_peer input (see
      fuzz/peer_entry.hpp): a setup byte, then per frame a u16 header (length | clock step << 14,
      the step from the gap to the previous frame) and the frame.
  make_seeds.py capture CAPTURE OUT [--records K] [--link en10mb|sll|sll2|raw] [--usec] [--pcapng]
      The first K records, rewritten with another link type, microsecond time stamps or as
      pcapng: small captures of every kind capture_reader.cpp reads.

The seeds in fuzz/corpus/ were made this way from runs of captures/scenarios/*/*.yaml
(fuzz/README.md lists the commands).
"""
import argparse
import struct

PEER_MAC = bytes.fromhex("02005e005302")
LINKTYPES = {"en10mb": 1, "raw": 101, "sll": 113, "sll2": 276}


def read_pcap(path):
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, expected Ethernet")
    records, pos = [], 24
    while pos + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
        pos += 16
        ns = sec * 1_000_000_000 + (frac if nano else frac * 1000)
        records.append((ns, data[pos:pos + caplen]))
        pos += caplen
    return records


def peer_seed(args):
    frames = [(t, f) for t, f in read_pcap(args.capture) if f[6:12] != PEER_MAC][: args.max_frames]
    out, previous = bytearray([args.setup]), None
    for t, f in frames:
        gap = 0 if previous is None else t - previous
        previous = t
        step = 0 if gap < 5_000_000 else 1 if gap < 500_000_000 else 2
        f = f[:0x3FFF]
        out += struct.pack(">H", len(f) | step << 14) + f
    open(args.out, "wb").write(out)


def relink(frame, link, outgoing):
    ethertype, ip = frame[12:14], frame[14:]
    pkttype = 4 if outgoing else 0
    if link == "en10mb":
        return frame
    if link == "raw":
        return ip
    if link == "sll":
        return struct.pack(">HHH", pkttype, 1, 6) + frame[6:12] + b"\0\0" + ethertype + ip
    return ethertype + b"\0\0" + struct.pack(">IHBB", 2, 1, pkttype, 6) + frame[6:12] + b"\0\0" + ip


def pcapng_block(kind, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", kind, total) + body + struct.pack("<I", total)


def capture_seed(args):
    records = read_pcap(args.capture)[: args.records]
    linktype = LINKTYPES[args.link]
    out = bytearray()
    if args.pcapng:
        out += pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        # if_tsresol 9: nanoseconds (or the default microseconds)
        options = b"" if args.usec else struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
        out += pcapng_block(1, struct.pack("<HHI", linktype, 0, 262144) + options)
    else:
        magic = 0xA1B2C3D4 if args.usec else 0xA1B23C4D
        out += struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)
    for t, f in records:
        f = relink(f, args.link, f[6:12] != PEER_MAC)
        ts = t // 1000 if args.usec else t
        if args.pcapng:
            out += pcapng_block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f)
        else:
            div = 1_000_000 if args.usec else 1_000_000_000
            out += struct.pack("<IIII", ts // div, ts % div, len(f), len(f)) + f
    open(args.out, "wb").write(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    pp = sub.add_parser("peer")
    pp.add_argument("capture")
    pp.add_argument("out")
    pp.add_argument("--setup", type=lambda s: int(s, 0), default=0x08)
    pp.add_argument("--max-frames", type=int, default=40)
    pc = sub.add_parser("capture")
    pc.add_argument("capture")
    pc.add_argument("out")
    pc.add_argument("--records", type=int, default=30)
    pc.add_argument("--link", choices=sorted(LINKTYPES), default="en10mb")
    pc.add_argument("--usec", action="store_true")
    pc.add_argument("--pcapng", action="store_true")
    args = p.parse_args()
    peer_seed(args) if args.what == "peer" else capture_seed(args)


if __name__ == "__main__":
    main()
