"""A federation of sites for the order-forwarding tests (standard library
only): one throw-away Prosody, one rendezvous with a short heartbeat period
(so that a dead member is declared dead within seconds), and managers whose
clouds have a small, known capacity (the `instant` driver, or the `local`
driver behind a tunnel).

    fed = Federation(self)                       # cleaned up by addCleanup
    a = fed.site("a", instances=10)
    b = fed.site("b", instances=10, federation='member_validator = ...')
    fed.wait_all_see_each_other()
    orders = a.post({"kind": "compute", "count": 30})
    a.wait_orders_fulfilled([o["id"] for o in orders])

Across XMPP domains joined by s2s (s2s_harness.Domains), a rendezvous runs
on every domain, each pulling the others as neighbours, and each site joins
its own domain's rendezvous:

    xmpp = Domains(self, ["a.test", "b.test"])
    fed = Federation(self, xmpp=xmpp)
    a = fed.site("a", instances=0, domain="a.test")
    b = fed.site("b", instances=10, domain="b.test")

A site's member id is the bare JID of its manager's account
(`a@localhost`, `a@a.test`); remote instance ids are `<cloud id>@<member id>`. Counting
instances per site uses each manager's own GET /v1/status ("instances":
every instance the site's cloud runs, served ones included), because
served orders are not visible to the provider's local users.
"""

import time

from fogbow_harness import Manager, wait_until
from xmpp_harness import (DOMAIN, alive_ids, members, start_rendezvous,
                          start_xmpp_server, xmpp_section)

TOKEN = "alice-secret"

# Heartbeats every second, dead after five missed: a killed member leaves
# every list within ~6 s, and a loaded 2-core machine (ctest -j2) still
# never misses five beats in a row.
RENDEZVOUS_EXTRA = "period_ms = 1000\nmax_lost = 5\n"

# Neighbours pulled every second: a member of one domain is listed on the
# other within about two seconds.
SYNC_INTERVAL_MS = 1000

# Orders that fail to be placed are retried quickly, so that "retried when
# capacity changes" is observable within a test's patience.
MANAGER_EXTRA = "retry_initial_ms = 200\nretry_max_ms = 1000\n"

FINAL_STATES = ("failed", "closed", "deleted")


def instant_driver(instances):
    """An in-memory cloud whose only binding limit is `instances`."""
    return f"""kind = "instant"
instances = {instances}
vcpu = 100000
memory_mb = 100000000
"""


def member_id(user, domain=DOMAIN):
    return f"{user}@{domain}"


def local_part(instance_id):
    """`inst-3` of `inst-3@b@localhost` (split at the first '@')."""
    return instance_id.split("@", 1)[0]


def member_of(instance_id):
    """`b@localhost` of `inst-3@b@localhost` (split at the first '@')."""
    return instance_id.split("@", 1)[1]


class Site(Manager):
    """One federated manager (`--role=manager`, or `all` with a tunnel)."""

    def __init__(self, user, roles="manager", env=None, domain=DOMAIN):
        super().__init__(roles=roles, env=env)
        self.user = user
        self.domain = domain
        self.id = member_id(user, domain)
        self.jid = self.id
        self.full_jid = f"{self.id}/fogbow"
        self.config = None

    def start_site(self, config):
        self.config = config
        self.start(config)
        self.wait_xmpp_connected()
        return self

    def wait_xmpp_connected(self, timeout=30):
        """Until this process's XMPP session is up: before that, IQs sent
        to its full JID bounce off the server (service-unavailable)."""
        wait_until(lambda: f"xmpp {self.full_jid}: connected to" in self.log(),
                   timeout=timeout, interval=0.1,
                   message=f"{self.id} to connect to the XMPP server")

    def restart(self):
        """Starts again with the same config and data directory."""
        self.start(self.config, data_dir=self.data_dir)
        self.wait_xmpp_connected()
        return self

    def call(self, method, path, body=None, expect=None):
        status, answer = self.request(method, path, body, token=TOKEN,
                                      timeout=30)
        if expect is not None and status != expect:
            raise AssertionError(f"{self.id}: {method} {path} -> {status} "
                                 f"{answer}\n{self.log_tail()}")
        return status, answer

    def post(self, body):
        """POST /v1/orders; the created orders."""
        return self.call("POST", "/v1/orders", body, expect=201)[1]["orders"]

    def order(self, order_id):
        return self.call("GET", f"/v1/orders/{order_id}", expect=200)[1]

    def orders(self):
        """{id: order} of alice's orders."""
        listing = self.call("GET", "/v1/orders", expect=200)[1]["orders"]
        return {o["id"]: o for o in listing}

    def computes(self):
        """{id: compute} from GET /v1/computes (local and remote)."""
        listing = self.call("GET", "/v1/computes", expect=200)[1]["computes"]
        return {c["id"]: c for c in listing}

    def instances(self):
        """How many instances this site's cloud runs (served ones too)."""
        return self.call("GET", "/v1/status", expect=200)[1]["instances"]

    def wait_orders(self, ids, accept, timeout, message):
        """Polls GET /v1/orders until accept(order) holds for every order
        in `ids`; fails at once when one reaches a final state. Returns
        {id: order}."""
        ids = list(ids)

        def done():
            listing = self.orders()
            missing = [i for i in ids if i not in listing]
            if missing:
                raise AssertionError(f"{self.id} lost orders {missing}")
            for i in ids:
                if listing[i]["state"] in FINAL_STATES:
                    raise AssertionError(f"order {i} ended {listing[i]}\n"
                                         + self.log_tail())
            if all(accept(listing[i]) for i in ids):
                return {i: listing[i] for i in ids}
            return None
        try:
            return wait_until(done, timeout=timeout, interval=0.2,
                              message=message)
        except AssertionError as e:
            states = {}
            for o in self.orders().values():
                key = (o["state"], o.get("providing_member"))
                states[key] = states.get(key, 0) + 1
            raise AssertionError(f"{e}; orders at {self.id} by (state, "
                                 f"provider): {states}\n{self.log_tail()}") \
                from None

    def wait_fulfilled(self, ids, timeout=90):
        return self.wait_orders(
            ids, lambda o: o["state"] == "fulfilled", timeout,
            f"{len(list(ids))} orders at {self.id} to be fulfilled")


class Federation:
    """XMPP server(s) + rendezvous + sites, all stopped by the test's
    cleanup. Without `xmpp`, one server serving `localhost` (Prosody, or
    ejabberd for a test case whose `xmpp_server` says so); with an
    s2s_harness.Domains, a rendezvous `rdv@<domain>` per domain, each with
    the others as neighbours. `self.prosody`/`self.rdv` are the first
    domain's (`prosody` whichever server it is)."""

    def __init__(self, test, rendezvous_extra=RENDEZVOUS_EXTRA, xmpp=None,
                 rendezvous_domains=None):
        self.test = test
        if xmpp is None:
            self.servers = {DOMAIN: start_xmpp_server(test)}
        else:
            self.servers = {server.domain: server for server in xmpp}
        domains = rendezvous_domains or list(self.servers)
        self.rdvs = {}
        for domain in domains:
            others = [f"rdv@{d}/fogbow" for d in domains if d != domain]
            extra = rendezvous_extra
            if others:
                extra += (f"neighbors = {others!r}\n".replace("'", '"')
                          + f"sync_interval_ms = {SYNC_INTERVAL_MS}\n")
            self.rdvs[domain] = start_rendezvous(test, self.servers[domain],
                                                 "rdv", extra)
        self.domain = domains[0]
        self.prosody = self.servers[self.domain]
        self.rdv = self.rdvs[self.domain]
        self.sites = []

    def site_config(self, user, instances=10, driver=None, federation="",
                    manager="", extra="", monitor_interval_ms=500,
                    probe_interval_s=2, domain=None):
        """The config of site `user`; `federation` lines go into
        [manager.federation], `manager` lines into [manager], `extra` is
        appended (whole sections). The refresh and probe periods are short
        by default, so that tests see their effects within seconds. The
        site joins `domain`'s rendezvous (default: the first domain's)."""
        driver = driver or instant_driver(instances)
        domain = domain or self.domain
        prosody = self.servers[domain]
        rendezvous = self.rdvs.get(domain, self.rdv)
        # request_timeout_ms above every serve delay the tests inject: the
        # forward timeout under test is [manager.federation]
        # forward_timeout_s.
        return xmpp_section(prosody, request_timeout_ms=10000) + f"""
[manager]
{MANAGER_EXTRA}
{manager}

[manager.driver]
{driver}

[manager.federation]
jid = "{user}@{domain}/fogbow"
password = "pw-{user}"
rendezvous = "{rendezvous.jid}"
monitor_interval_ms = {monitor_interval_ms}
probe_interval_s = {probe_interval_s}
{federation}

[identity]
[[identity.users]]
id = "alice"
token = "{TOKEN}"

{extra}
"""

    def site(self, user, instances=10, env=None, roles="manager", domain=None,
             **config):
        """Starts the manager of site `user` on `domain` (default: the
        first domain); its account is created here."""
        domain = domain or self.domain
        self.servers[domain].add_account(user, f"pw-{user}")
        site = Site(user, roles=roles, env=env, domain=domain)
        self.test.addCleanup(site.cleanup)
        site.start_site(self.site_config(user, instances, domain=domain,
                                         **config))
        self.sites.append(site)
        return site

    def wait_all_see_each_other(self, sites=None, timeout=40):
        sites = sites or self.sites
        everyone = {s.id for s in sites}
        wait_until(lambda: all(everyone <= alive_ids(s) for s in sites),
                   timeout=timeout, interval=0.2,
                   message=f"{sorted(everyone)} to see each other alive")

    def wait_gone(self, dead, sites, timeout=40):
        """Until every site in `sites` has declared `dead` not alive."""
        wait_until(lambda: all(dead.id not in alive_ids(s) for s in sites),
                   timeout=timeout, interval=0.2,
                   message=f"{dead.id} to be declared dead")

    def instance_counts(self, sites=None):
        return {s.id: s.instances() for s in (sites or self.sites)}


def delayed_provider_env(delay_ms):
    """A manager that answers `order` IQs `delay_ms` late (test hook)."""
    return {"FOGBOW_TEST_FAULTS": "1",
            "FOGBOW_TEST_SERVE_DELAY_MS": str(delay_ms)}


def holds_for(predicate, seconds, interval=0.25):
    """True when predicate() stays truthy for `seconds`, False as soon as it
    does not. Used only after a wait has shown the predicate true, to catch
    a late duplicate (an instance that appears after the orders were
    fulfilled); never to wait for something."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if not value:
            return False
        time.sleep(interval)
    return True


def count_by_provider(orders):
    counts = {}
    for o in orders.values():
        counts[o["providing_member"]] = counts.get(o["providing_member"], 0) + 1
    return counts


__all__ = ["DOMAIN", "Federation", "Site", "TOKEN", "alive_ids",
           "count_by_provider", "delayed_provider_env", "holds_for",
           "instant_driver", "local_part", "member_id", "member_of", "members",
           "wait_until"]
