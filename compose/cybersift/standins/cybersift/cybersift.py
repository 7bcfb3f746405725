"""Stand-in for the CyberSift services of the reference stack.

CyberSift trains machine-learning models (weights and hyper-parameters in
files), caches results in Redis and indexes events into Elasticsearch. This
stand-in does the same, in that order, over and over, but only while the
switch file /tmp/cybersift-writing exists, so a test decides when the stack
is written to. Each round is one MULTI/EXEC transaction in Redis:

    INCR  cybersift:live:counter
    RPUSH cybersift:live:ticks <round>
    HSET  cybersift:live:results model-<k> <score>

so any point-in-time copy of Redis has counter == LLEN ticks. It reconnects
when Redis or Elasticsearch restart (a restore does that). Standard library
only: the image has python3 and nothing else.
"""
import json
import os
import socket
import time
import urllib.request

SWITCH = "/tmp/cybersift-writing"
READY = "/tmp/cybersift-ready"
MODELS = "/opt/cybersift/models"
ES = "http://elasticsearch:9200"
INDEX = "cybersift-events"


class Redis:
    def __init__(self, host, port, password):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""
        if password:
            self.call("AUTH", password)

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("redis closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.reply()

    def transaction(self, *commands):
        self.send("MULTI")
        for c in commands:
            self.send(*c)
        self.send("EXEC")
        for _ in range(len(commands) + 1):
            self.reply()
        return self.reply()


def es(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(ES + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def connect():
    while True:
        try:
            r = Redis("redis", 6379, os.environ.get("REDIS_PASSWORD"))
            r.call("PING")
            es("GET", "/_cluster/health")
            return r
        except Exception as e:  # not up yet, or restarting
            print("waiting for redis and elasticsearch:", e, flush=True)
            time.sleep(1)


def train(k, round_):
    folder = os.path.join(MODELS, "live", "model-%d" % k)
    os.makedirs(folder, exist_ok=True)
    for name, data in (("weights.bin", bytes((round_ * 7 + i) % 256 for i in range(256))),
                       ("hyperparameters.json", json.dumps({"round": round_, "k": k}).encode())):
        tmp = os.path.join(folder, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(folder, name))


def main():
    r = connect()
    open(READY, "w").close()
    rounds = 0
    while True:
        if not os.path.exists(SWITCH):
            time.sleep(0.2)
            continue
        try:
            rounds += 1
            k = rounds % 5
            train(k, rounds)
            r.transaction(("INCR", "cybersift:live:counter"),
                          ("RPUSH", "cybersift:live:ticks", rounds),
                          ("HSET", "cybersift:live:results", "model-%d" % k, "%.4f" % (rounds / 7.0)))
            es("PUT", "/%s/_doc/live-%d" % (INDEX, rounds), {"round": rounds, "model": k, "source": "stand-in"})
            time.sleep(0.02)
        except Exception as e:
            print("write failed, reconnecting:", e, flush=True)
            time.sleep(0.5)
            r = connect()


main()
