"""ejabberd's external authentication program for the test harness
(ejabberd_harness.py): accounts are plain files `ACCOUNTS/<user>` holding
the password, so a test creates thousands of accounts by writing files,
while ejabberd runs, without ejabberdctl.

Protocol (ejabberd `extauth`): each request is a 2-byte big-endian length
and `op:user:server[:password]`; each answer is the 2-byte length 2 and a
2-byte result, 1 for yes and 0 for no.

Usage: ejabberd_extauth.py ACCOUNTS_DIR
"""

import os
import struct
import sys


def encode(user):
    """The account's file name: every non-alphanumeric character escaped,
    so that no user name reaches outside the directory."""
    return "".join(c if c.isalnum() else "%%%02x" % ord(c) for c in user)


def password(accounts, user):
    try:
        with open(os.path.join(accounts, encode(user)), encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def answer(ok):
    sys.stdout.buffer.write(struct.pack(">HH", 2, 1 if ok else 0))
    sys.stdout.buffer.flush()


def main():
    accounts = sys.argv[1]
    stdin = sys.stdin.buffer
    while True:
        head = stdin.read(2)
        if len(head) < 2:
            return  # ejabberd closed the pipe: it stopped
        (length,) = struct.unpack(">H", head)
        fields = stdin.read(length).decode("utf-8").split(":", 3)
        op, user = fields[0], fields[1] if len(fields) > 1 else ""
        stored = password(accounts, user)
        if op == "auth" and len(fields) == 4:
            answer(stored is not None and stored == fields[3])
        elif op == "isuser":
            answer(stored is not None)
        else:
            answer(False)  # setpass, tryregister, removeuser: not offered


if __name__ == "__main__":
    main()
