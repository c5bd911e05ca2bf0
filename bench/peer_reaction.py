#!/usr/bin/python3
"""The peer's reaction time in a capture, from the kernel's time stamps.

Usage: bench/peer_reaction.py [--json] [--csv-line LABEL] CAPTURE.pcap...

For every SYN-ACK and every ACK of new data the peer sent, the time since the kernel segment
it answers: the kernel's last SYN before the SYN-ACK, and the kernel's last segment before the
ACK whose end (sequence number plus payload, SYN and FIN) is the sequence number the ACK
acknowledges. An ACK that acknowledges no segment end exactly (one that acknowledges part of a
segment) is left out and counted. The kernel is whichever side sent the connection's SYN.
Kernel retransmissions are counted as well: a kernel segment that carries sequence space
(payload, SYN or FIN) that the kernel had already sent.

Reads nanosecond and microsecond pcaps of Ethernet frames (what tap::Recorder writes) with the
standard library only, so Debian's /usr/bin/python3 runs it without packages.
"""
import json
import statistics
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic == 0xA1B23C4D:
        endian, scale = "<", 1
    elif magic == 0xA1B2C3D4:
        endian, scale = "<", 1000
    elif magic == 0x4D3CB2A1:
        endian, scale = ">", 1
    elif magic == 0xD4C3B2A1:
        endian, scale = ">", 1000
    else:
        raise SystemExit(f"{path}: not a pcap file (magic {magic:#x})")
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, expected 1 (Ethernet)")
    offset = 24
    while offset + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack_from(endian + "IIII", data, offset)
        offset += 16
        yield sec * 1_000_000_000 + frac * scale, data[offset:offset + caplen]
        offset += caplen


def tcp_segment(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload length) of a TCP frame, else None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    off = 14
    if ethertype == 0x8100 and len(frame) >= 18:
        ethertype = struct.unpack_from("!H", frame, 16)[0]
        off = 18
    if ethertype == 0x0800:
        if len(frame) < off + 20:
            return None
        ihl = (frame[off] & 0x0F) * 4
        total = struct.unpack_from("!H", frame, off + 2)[0]
        frag = struct.unpack_from("!H", frame, off + 6)[0]
        if frame[off + 9] != 6 or frag & 0x3FFF:
            return None
        src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
        tcp, end = off + ihl, off + total
    elif ethertype == 0x86DD:
        if len(frame) < off + 40 or frame[off + 6] != 6:
            return None
        length = struct.unpack_from("!H", frame, off + 4)[0]
        src, dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
        tcp, end = off + 40, off + 40 + length
    else:
        return None
    if len(frame) < tcp + 20:
        return None
    sport, dport, seq, ack, offs, flags = struct.unpack_from("!HHIIBB", frame, tcp)
    payload = end - tcp - (offs >> 4) * 4
    return bytes(src), bytes(dst), sport, dport, seq, ack, flags, max(payload, 0)


SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10


def analyse(path):
    conns = {}  # (kernel addr, kernel port, peer addr, peer port) -> state
    reactions, unmatched, retransmissions = [], 0, 0
    for t, frame in frames(path):
        seg = tcp_segment(frame)
        if seg is None:
            continue
        src, dst, sport, dport, seq, ack, flags, length = seg
        fwd, rev = (src, sport, dst, dport), (dst, dport, src, sport)
        if flags & SYN and not flags & ACK:
            c = conns.setdefault(fwd, {"sent": {}, "high": None, "last_syn": None, "acked": None})
        c = conns.get(fwd)
        if c is not None:  # from the kernel
            space = length + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
            if flags & SYN:
                c["last_syn"] = t
            if space:
                end = (seq + space) & 0xFFFFFFFF
                if c["high"] is not None and ((end - c["high"]) & 0xFFFFFFFF) >= 0x80000000 or end == c["high"]:
                    retransmissions += 1
                else:
                    c["high"] = end
                c["sent"][end] = t
            continue
        c = conns.get(rev)
        if c is None or flags & RST or not flags & ACK:
            continue
        if flags & SYN:  # SYN-ACK
            if c["last_syn"] is not None:
                reactions.append(t - c["last_syn"])
            c["acked"] = ack
            continue
        if c["acked"] is None or ((ack - c["acked"]) & 0xFFFFFFFF) == 0 or ((ack - c["acked"]) & 0xFFFFFFFF) >= 0x80000000:
            continue  # not new
        c["acked"] = ack
        sent = c["sent"].get(ack)
        if sent is None:
            unmatched += 1
        else:
            reactions.append(t - sent)
    return reactions, unmatched, retransmissions


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def summary(reactions):
    return {
        "answers": len(reactions),
        "p50_us": percentile(reactions, 50) / 1000 if reactions else None,
        "p99_us": percentile(reactions, 99) / 1000 if reactions else None,
        "max_us": max(reactions) / 1000 if reactions else None,
    }


def main(argv):
    as_json = "--json" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    every, result = [], {"captures": {}}
    for p in paths:
        r, unmatched, retrans = analyse(p)
        every += r
        result["captures"][p] = dict(summary(r), unmatched=unmatched, kernel_retransmissions=retrans)
    result["all"] = summary(every)
    if as_json:
        print(json.dumps(result, indent=2))
        return 0
    fmt = "{:>8} {:>10} {:>10} {:>10} {:>8}  {}"
    print(fmt.format("answers", "p50 us", "p99 us", "max us", "retrans", "capture"))
    for p, s in result["captures"].items():
        print(fmt.format(s["answers"], f"{s['p50_us'] or 0:.1f}", f"{s['p99_us'] or 0:.1f}",
                         f"{s['max_us'] or 0:.1f}", s["kernel_retransmissions"], p))
    s = result["all"]
    print(fmt.format(s["answers"], f"{s['p50_us'] or 0:.1f}", f"{s['p99_us'] or 0:.1f}",
                     f"{s['max_us'] or 0:.1f}", "", "all"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
