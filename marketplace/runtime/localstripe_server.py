"""Run localstripe on loopback with its store kept under var/ instead of /tmp.

localstripe hard-codes `/tmp/localstripe.pickle` and listens on every interface;
this launcher keeps two instances (demo and tests) from sharing state and keeps the
fake off the network.
"""

import argparse
import pickle
import socket

from aiohttp import web
from localstripe import resources, server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    args = parser.parse_args()

    def load(store):
        try:
            with open(args.store, "rb") as file:
                store.clear()
                store.update(pickle.load(file))
        except FileNotFoundError:
            pass

    def dump(store):
        with open(args.store, "wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    web.run_app(server.app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    main()
