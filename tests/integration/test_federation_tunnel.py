"""A remote instance reached through its provider's tunnel, end to end: A
has no room, so its compute order is served by B, whose `local` driver runs
the user data (an HTTP service on the port published as "ssh", another on a
named extra port) and whose own tunnel publishes them. A's GET
/v1/computes/{id}@b shows B's public addresses, and the instance answers
through them; deleting the order at A removes the instance at B and closes
its ports."""

import unittest

from fogbow_harness import closed_port
from federation_harness import Federation, member_of, wait_until
from tunnel_harness import free_port_range, http_get, published_through_tunnel

USER_DATA = """#!/bin/sh
echo "hello from a remote instance" > hello.txt
echo "extra port of a remote instance" > extra.txt
python3 -m http.server {svc} --bind 127.0.0.1 >/dev/null 2>&1 &
python3 -m http.server {web} --bind 127.0.0.1 >/dev/null 2>&1 &
"$HOME/.fogbow-tunnel/connect" web {web} >> "$HOME/.fogbow-tunnel/web.log" 2>&1 &
"""


class FederationTunnel(unittest.TestCase):
    def test_remote_instance_is_reached_through_the_providers_tunnel(self):
        low, high = free_port_range(6)
        api_port, svc, web = closed_port(), closed_port(), closed_port()
        fed = Federation(self)
        a = fed.site("a", instances=0)
        b = fed.site("b", roles="all",
                     driver='kind = "local"\ninstances = 4\n',
                     extra=published_through_tunnel(low, high, api_port,
                                                    svc))
        fed.wait_all_see_each_other()

        [order] = a.post({"kind": "compute",
                          "user_data": USER_DATA.format(svc=svc, web=web)})
        done = a.wait_fulfilled([order["id"]], timeout=90)[order["id"]]
        self.assertEqual(done["providing_member"], b.id, done)
        instance_id = done["instance_id"]
        self.assertEqual(member_of(instance_id), b.id)
        self.assertEqual(b.instances(), 1)

        def compute():
            return a.call("GET", f"/v1/computes/{instance_id}", expect=200)[1]
        ssh = wait_until(lambda: compute()["ssh_public_address"], timeout=30,
                         message="the remote compute's ssh address")
        host, port = ssh.rsplit(":", 1)
        self.assertEqual(host, "127.0.0.1")
        self.assertTrue(low <= int(port) <= high, ssh)
        self.assertEqual(wait_until(lambda: http_get(int(port), "/hello.txt"),
                                    timeout=60,
                                    message="the instance through B's tunnel"),
                         b"hello from a remote instance\n")
        extra = wait_until(lambda: (compute()["extra_ports"] or {}).get("web"),
                           timeout=60, message="the named extra port")
        self.assertEqual(wait_until(lambda: http_get(int(extra.rsplit(":", 1)[1]),
                                                     "/extra.txt"),
                                    timeout=30, message="the extra port"),
                         b"extra port of a remote instance\n")
        # The listing at A shows the same addresses as the single GET.
        listed = a.computes()[instance_id]
        self.assertEqual(listed["ssh_public_address"], ssh)

        # Deleting the order at A removes the instance at B, ports included.
        a.call("DELETE", f"/v1/orders/{order['id']}", expect=200)
        wait_until(lambda: b.instances() == 0, timeout=60,
                   message="B to remove the instance")
        wait_until(lambda: http_get(int(port), "/hello.txt", timeout=1) is None,
                   timeout=30, message="the tunnel port to close")


if __name__ == "__main__":
    unittest.main()
