#!/usr/bin/python3
"""Probe: does a TLS ZooKeeper server serve kazoo 2.8 (use_ssl=True) with this trust and identity?

usage: kazoo_tls_probe.py HOSTS CA_FILE [CERT_FILE KEY_FILE [KEY_PASSWORD_FILE]]

Connects with the CA file as trust (kazoo also loads the system store and does not check host
names), the client certificate and key when given (the key decrypted with the password in
KEY_PASSWORD_FILE), within 3 s, and lists "/". Prints "served CHILDREN" (the root's children,
comma-separated, sorted) and exits 0, or prints "refused REASON" and exits 1.
"""
import logging
import sys

from kazoo.client import KazooClient

USAGE = "kazoo_tls_probe.py HOSTS CA_FILE [CERT_FILE KEY_FILE [KEY_PASSWORD_FILE]]"


def main(argv):
    if len(argv) not in (3, 5, 6):
        print("usage: " + USAGE, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    identity = {}
    if len(argv) >= 5:
        identity = {"certfile": argv[3], "keyfile": argv[4]}
    if len(argv) == 6:
        with open(argv[5], encoding="ascii") as f:
            identity["keyfile_password"] = f.read()
    client = KazooClient(hosts=argv[1], use_ssl=True, verify_certs=True, ca=argv[2],
                         connection_retry={"max_tries": 0}, **identity)
    try:
        client.start(timeout=3)
        print("served " + ",".join(sorted(client.get_children("/"))))
        return 0
    except Exception as e:  # noqa: BLE001 - the reason is the probe's answer
        print("refused " + (type(e).__name__ + " " + str(e)).strip())
        return 1
    finally:
        client.stop()
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
