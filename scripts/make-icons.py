#!/usr/bin/env python3
"""Draws Lanyard's app and tray icons as PNGs (no image library needed).

Tray icons say the state by shape as well as colour: a hollow ring (signed out), a disc with a
check (all good), a triangle with "!" (needs attention), a disc with a clock hand (session
ending soon). Run once; the PNGs are committed under icons/.
"""
import math, struct, sys, zlib
from pathlib import Path

def png(path, size, pixel):
    ss = 4  # supersampling for smooth edges
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(ss):
                for sx in range(ss):
                    u = (x + (sx + 0.5) / ss) / size
                    v = (y + (sy + 0.5) / ss) / size
                    r, g, b, a = pixel(u, v)
                    acc[0] += r * a; acc[1] += g * a; acc[2] += b * a; acc[3] += a
            n = ss * ss
            a = acc[3] / n
            if a > 0:
                row += bytes([int(acc[0] / acc[3]), int(acc[1] / acc[3]), int(acc[2] / acc[3]), int(a * 255)])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(data)

CLEAR = (0, 0, 0, 0)
WHITE = (255, 255, 255, 1)

def dist(u, v, cx=0.5, cy=0.5):
    return math.hypot(u - cx, v - cy)

def seg(u, v, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0, min(1, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(u - (ax + t * dx), v - (ay + t * dy))

def signed_out(u, v):
    d = dist(u, v)
    return (120, 124, 132, 1) if 0.30 <= d <= 0.44 else CLEAR

def ok(u, v):
    if dist(u, v) > 0.45: return CLEAR
    if seg(u, v, 0.28, 0.52, 0.43, 0.67) < 0.06 or seg(u, v, 0.43, 0.67, 0.72, 0.35) < 0.06: return WHITE
    return (22, 150, 72, 1)

def attention(u, v):
    # triangle pointing up
    inside = v <= 0.9 and v >= 0.08 + abs(u - 0.5) * 1.64
    if not inside: return CLEAR
    if seg(u, v, 0.5, 0.35, 0.5, 0.62) < 0.055 or dist(u, v, 0.5, 0.76) < 0.06: return (30, 30, 30, 1)
    return (232, 160, 24, 1)

def ending(u, v):
    d = dist(u, v)
    if d > 0.45: return CLEAR
    if d > 0.37: return (40, 96, 200, 1)
    if seg(u, v, 0.5, 0.5, 0.5, 0.22) < 0.05 or seg(u, v, 0.5, 0.5, 0.7, 0.6) < 0.05: return (40, 96, 200, 1)
    return WHITE

def app_icon(u, v):
    # rounded square with a lanyard loop and a badge
    cx, cy, r = 0.5, 0.5, 0.44
    qx, qy = max(abs(u - cx) - (r - 0.12), 0), max(abs(v - cy) - (r - 0.12), 0)
    if math.hypot(qx, qy) > 0.12: return CLEAR
    if abs(dist(u, v, 0.5, 0.30) - 0.17) < 0.035 and v < 0.42: return WHITE
    if 0.32 <= u <= 0.68 and 0.45 <= v <= 0.80:
        if dist(u, v, 0.5, 0.58) < 0.06: return (31, 78, 160, 1)
        return WHITE
    return (31, 78, 160, 1)

out = Path(sys.argv[1] if len(sys.argv) > 1 else "icons")
out.mkdir(exist_ok=True)
for name, fn in [("tray-signed-out", signed_out), ("tray-ok", ok), ("tray-attention", attention), ("tray-ending", ending)]:
    png(out / f"{name}.png", 64, fn)
for name, size in [("32x32", 32), ("128x128", 128), ("128x128@2x", 256), ("icon", 512)]:
    png(out / f"{name}.png", size, app_icon)
