#!/usr/bin/env python3
"""Writes the seed corpus in tests/fuzz/corpus/<target>/ (the files are committed; rerun this
after changing it). Seeds are small valid inputs of the shapes each parser meets from a real
server, so the fuzzer starts from deep inside the grammar instead of guessing it. Files named
regress-* are not written here: they are inputs the fuzzer once found, kept as seeds."""
import os
import sys


def bulk(s):
    b = s.encode() if isinstance(s, str) else s
    return b"$%d\r\n%s\r\n" % (len(b), b)


def arr(items):
    return b"*%d\r\n" % len(items) + b"".join(items)


def i(n):
    return b":%d\r\n" % n


NODE_IDS = ["%040x" % (0x47EA8093 * (k + 1)) for k in range(6)]


def shards_reply(endpoint="127.0.0.1", failed=False, loading=False):
    shards = []
    ranges = [(0, 5460), (5461, 10922), (10923, 16383)]
    for k, (lo, hi) in enumerate(ranges):
        nodes = []
        for role, idx in (("master", k), ("replica", k + 3)):
            health = "online"
            if role == "master" and failed and k == 1:
                health = "failed"
            if role == "replica" and loading and k == 0:
                health = "loading"
            nodes.append(arr([bulk("id"), bulk(NODE_IDS[idx]), bulk("port"), i(7000 + idx),
                              bulk("ip"), bulk("127.0.0.1"), bulk("endpoint"), bulk(endpoint),
                              bulk("role"), bulk(role), bulk("replication-offset"), i(1234),
                              bulk("health"), bulk(health)]))
        shards.append(arr([bulk("slots"), arr([i(lo), i(hi)]), bulk("nodes"), arr(nodes)]))
    return arr(shards)


def slots_reply(host="127.0.0.1"):
    ranges = [(0, 5460), (5461, 10922), (10923, 16383)]
    out = []
    for k, (lo, hi) in enumerate(ranges):
        out.append(arr([i(lo), i(hi),
                        arr([bulk(host), i(7000 + k), bulk(NODE_IDS[k]), arr([])]),
                        arr([bulk(host), i(7003 + k), bulk(NODE_IDS[k + 3]), arr([])])]))
    return arr(out)


def main(root):
    seeds = {
        # control bytes: limit (0 = default, else 64 * (1 + b)), chunk seed
        "reader": {
            "status": b"\x00\x01+OK\r\n",
            "error": b"\x00\x02-MOVED 3999 127.0.0.1:6381\r\n",
            "integers": b"\x00\x03:0\r\n:-42\r\n:9223372036854775807\r\n",
            "bulk": b"\x00\x04$3\r\nfoo\r\n$0\r\n\r\n$-1\r\n",
            "binary": b"\x00\x05$8\r\na\r\nb\x00\r\nc\r\n",
            "nested": b"\x00\x06*4\r\n*2\r\n:0\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n*0\r\n"
                      b"*-1\r\n-ERR inner\r\n*1\r\n*1\r\n*2\r\n+deep\r\n$-1\r\n",
            "pipeline": b"\x00\x07+OK\r\n:5\r\n$5\r\nhello\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            "limited": b"\x01\x08*3\r\n$40\r\n" + b"x" * 40 + b"\r\n:1\r\n$200\r\n" + b"y" * 200 + b"\r\n",
            "big-array": b"\x02\x09*65536\r\n*65536\r\n:1\r\n",
            "slots": b"\x00\x0a" + slots_reply(),
        },
        # control byte: bit 0 = CLUSTER SLOTS (else SHARDS), bit 1 = with an AddressMap
        "topology": {
            "shards": b"\x00" + shards_reply(),
            "shards-remap": b"\x02" + shards_reply(),
            "shards-unknown-endpoint": b"\x00" + shards_reply(endpoint="?"),
            "shards-failed-primary": b"\x00" + shards_reply(failed=True),
            "shards-loading-replica": b"\x00" + shards_reply(loading=True),
            "shards-error": b"\x00-ERR unknown subcommand 'SHARDS'\r\n",
            "slots": b"\x01" + slots_reply(),
            "slots-empty-host": b"\x01" + slots_reply(host=""),
            "slots-remap": b"\x03" + slots_reply(),
        },
        "error_reply": {
            "moved": b"MOVED 3999 127.0.0.1:6381",
            "ask": b"ASK 16383 10.0.0.2:7002",
            "moved-ipv6": b"MOVED 1 ::1:6381",
            "moved-empty-host": b"MOVED 1 :6381",
            "moved-bracketed": b"MOVED 12 [fe80::1]:7000",
            "tryagain": b"TRYAGAIN Multiple keys request during rehashing of slot",
            "clusterdown": b"CLUSTERDOWN The cluster is down",
            "wrongpass": b"WRONGPASS invalid username-password pair or user is disabled.",
            "old-auth": b"ERR invalid password",
            "loading": b"LOADING Redis is loading the dataset in memory",
        },
        "url": {
            "plain": b"redis://127.0.0.1:6379",
            "full": b"redis://user:p%40ss@db.example:6380/2",
            "password-only": b"redis://secret@host",
            "ipv6": b"redis://[::1]:7000/0",
            "query": b"redis://h:1/3?timeout=5",
            "tls": b"rediss://host:6380",
            "bad-port": b"redis://host:99999",
        },
    }
    for target, files in seeds.items():
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus"))
