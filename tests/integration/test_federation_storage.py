"""Volumes and attachments served by other members, on a real Prosody with
a rendezvous and three managers (`instant` clouds). Orders pinned with
`Glue2CloudComputeManagerID` go to B or C; an attachment whose compute
and volume both live at B is placed at B (storagelink), one whose compute
is at B and volume at C fails with an error that says why, and nothing is
created for it anywhere."""

import unittest

from federation_harness import Federation, holds_for, member_of, wait_until


def pinned(member, body):
    return {**body,
            "requirements": f'Glue2CloudComputeManagerID == "{member}"'}


class FederationStorage(unittest.TestCase):
    def test_volumes_and_attachments_are_served_where_their_targets_are(self):
        fed = Federation(self)
        a, b, c = (fed.site(name, instances=4) for name in ("a", "b", "c"))
        fed.wait_all_see_each_other()

        [compute] = a.post(pinned(b.id, {"kind": "compute"}))
        [volume] = a.post(pinned(b.id, {"kind": "volume", "size_gb": 2}))
        [far_volume] = a.post(pinned(c.id, {"kind": "volume", "size_gb": 1}))
        ids = [compute["id"], volume["id"], far_volume["id"]]
        done = a.wait_fulfilled(ids)
        self.assertEqual(done[volume["id"]]["providing_member"], b.id)
        self.assertEqual(done[far_volume["id"]]["providing_member"], c.id)
        volume_id = done[volume["id"]]["instance_id"]
        self.assertEqual(member_of(volume_id), b.id)

        # The remote volume is listed and shown at A by its global id.
        volumes = a.call("GET", "/v1/volumes", expect=200)[1]["volumes"]
        self.assertIn(volume_id, {v["id"] for v in volumes})
        shown = a.call("GET", f"/v1/volumes/{volume_id}", expect=200)[1]
        self.assertEqual(shown["id"], volume_id)
        self.assertEqual(b.instances(), 2)  # the compute and the volume
        self.assertEqual(c.instances(), 1)

        # Compute and volume at B: the attachment is made at B.
        [attach] = a.post({"kind": "attachment", "compute": compute["id"],
                           "volume": volume["id"], "device": "/dev/vdb"})
        attached = a.wait_fulfilled([attach["id"]])[attach["id"]]
        self.assertEqual(attached["providing_member"], b.id, attached)
        self.assertEqual(member_of(attached["instance_id"]), b.id)
        self.assertEqual(b.instances(), 3)
        listed = a.call("GET", "/v1/attachments", expect=200)[1]["attachments"]
        self.assertIn(attached["instance_id"], {x["id"] for x in listed})

        # Compute at B, volume at C: refused with the reason, nothing made.
        [split] = a.post({"kind": "attachment", "compute": compute["id"],
                          "volume": far_volume["id"]})
        refused = wait_until(
            lambda: (lambda o: o if o["state"] == "failed" else None)(
                a.order(split["id"])),
            timeout=30, message="the split attachment to fail")
        self.assertIn("an attachment needs both on one member",
                      refused["last_error"])
        self.assertIn(b.id, refused["last_error"])
        self.assertIn(c.id, refused["last_error"])
        self.assertTrue(holds_for(lambda: (b.instances(), c.instances())
                                  == (3, 1), 2))

        # The attachment goes first (a volume in use cannot be deleted);
        # then the volume, each at its provider.
        status, _ = a.call("DELETE", f"/v1/volumes/{volume_id}")
        self.assertEqual(status, 409)
        a.call("DELETE", f"/v1/orders/{attach['id']}", expect=200)
        wait_until(lambda: b.instances() == 2, timeout=30,
                   message="B to remove the attachment")
        a.call("DELETE", f"/v1/orders/{volume['id']}", expect=200)
        wait_until(lambda: b.instances() == 1, timeout=30,
                   message="B to remove the volume")
        self.assertEqual(c.instances(), 1)


if __name__ == "__main__":
    unittest.main()
