#!/usr/bin/python3
"""A notification server for the end-to-end test.

Owns `org.freedesktop.Notifications` on the session bus, as a desktop's notification daemon
does (Desktop Notifications Specification 1.2: Notify, GetCapabilities, GetServerInformation,
CloseNotification, and the NotificationClosed signal), and records every Notify it receives as
one JSON line in the log file: app name, summary, body, and when it arrived (ms since the
epoch). It draws nothing. Prints "ready" on stdout once it owns the name; exits on SIGTERM.

Debian's python3-dbus and python3-gi (scripts/install-deps.sh); run with /usr/bin/python3,
the interpreter those packages are built for.
"""

import argparse
import json
import signal
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"
# The spec's reason code for "closed by a call to CloseNotification".
CLOSED_BY_CALL = 3


class Server(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, PATH)
        self.log = log
        self.last_id = 0

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout):
        if replaces_id:
            nid = int(replaces_id)
        else:
            self.last_id += 1
            nid = self.last_id
        record = {
            "id": nid,
            "app_name": str(app_name),
            "summary": str(summary),
            "body": str(body),
            "actions": [str(a) for a in actions],
            "at_ms": int(time.time() * 1000),
        }
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()
        return dbus.UInt32(nid)

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body", "actions"]

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("lanyard-e2e-notifications", "Lanyard", "1.0", "1.2")

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        self.NotificationClosed(nid, CLOSED_BY_CALL)

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(IFACE, signature="us")
    def ActionInvoked(self, nid, action_key):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True, help="JSON-lines file, one line per Notify")
    args = parser.parse_args()

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    try:
        # Not queued: a second server (or a real daemon) already there is an error, not a wait.
        name = dbus.service.BusName(NAME, bus, do_not_queue=True)
    except dbus.exceptions.NameExistsException:
        print(f"{NAME} is already owned on this bus", file=sys.stderr)
        return 1
    with open(args.log, "a", encoding="utf-8") as log:
        server = Server(bus, log)
        loop = GLib.MainLoop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
        print("ready", flush=True)
        loop.run()
        del server, name
    return 0


if __name__ == "__main__":
    sys.exit(main())
