#!/usr/bin/env python3
"""Runs a program in a pseudo-terminal and answers it as a person at the
keyboard would: wait until the screen shows a pattern, then type keys.

    pty-driver.py STEPS_JSON PROGRAM [ARG...]

STEPS_JSON is a list of {"expect": regex, "send": text, "timeout": seconds}.
Matching is done on the output since the previous match, with terminal
escape sequences removed, so a prompt counts only once it is shown anew.
After the last step the program runs to its end. One JSON object goes to
stdout: {"code": exit code or null, "signal": number or null, "output":
everything shown, "timedOutAt": index of the step that never matched}.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

ESCAPES = re.compile(rb'\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]')


def visible(raw):
    return ESCAPES.sub(b'', raw).replace(b'\r', b'').decode('utf-8', 'replace')


def main():
    steps = json.loads(sys.argv[1])
    argv = sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.setdefault('TERM', 'xterm-256color')
        os.execvp(argv[0], argv)
    # A terminal of a usual size, so prompts and spinners lay out as for a person.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 160, 0, 0))
    raw = b''
    mark = 0
    closed = False

    def read_some(timeout):
        nonlocal raw, closed
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b''
        if not chunk:
            closed = True
        raw += chunk

    timed_out_at = None
    for index, step in enumerate(steps):
        pattern = re.compile(step['expect'])
        deadline = time.time() + step.get('timeout', 600)
        while True:
            text = visible(raw)
            found = pattern.search(text, mark)
            if found:
                mark = found.end()
                break
            if closed or time.time() > deadline:
                timed_out_at = index
                break
            read_some(0.2)
        if timed_out_at is not None:
            break
        # Prompts draw first and listen a moment later; a person is slower still.
        time.sleep(0.3)
        os.write(fd, step['send'].encode())

    if timed_out_at is not None and not closed:
        os.kill(pid, signal.SIGTERM)
    end = time.time() + 1800
    while not closed and time.time() < end:
        read_some(1)
    _, status = os.waitpid(pid, 0)
    result = {
        'code': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        'output': visible(raw),
        'timedOutAt': timed_out_at,
    }
    sys.stdout.write(json.dumps(result))


main()
