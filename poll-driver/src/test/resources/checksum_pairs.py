"""Checks a capture of frames Sluice sent through a real PMD (ChecksumOffloadTapIT).

Every IPv4/TCP frame from SRC: its IPv4 header and TCP checksums recomputed by scapy must equal the
ones on the wire. Frames sent once through the software path and once through checksum offload carry the
same (source port, sequence number): each such pair must be identical bit for bit.
Prints one line: frames=N bad=N pairs=N mismatched=N.
"""
import sys

from scapy.all import IP, TCP, Ether, raw, rdpcap

capture, src = sys.argv[1], sys.argv[2]
frames, bad, count = {}, 0, 0
for packet in rdpcap(capture):
    if IP not in packet or TCP not in packet or packet[IP].src != src:
        continue
    count += 1
    again = Ether(raw(packet))
    del again[IP].chksum
    del again[TCP].chksum
    again = Ether(raw(again))
    if again[IP].chksum != packet[IP].chksum or again[TCP].chksum != packet[TCP].chksum:
        bad += 1
        print("bad checksum: seq=%d ip=%#06x (want %#06x) tcp=%#06x (want %#06x)" % (
            packet[TCP].seq, packet[IP].chksum, again[IP].chksum, packet[TCP].chksum, again[TCP].chksum))
    frames.setdefault((packet[TCP].sport, packet[TCP].seq), []).append(raw(packet))
pairs = [v for v in frames.values() if len(v) == 2]
mismatched = sum(1 for a, b in pairs if a != b)
print("frames=%d bad=%d pairs=%d mismatched=%d" % (count, bad, len(pairs), mismatched))
