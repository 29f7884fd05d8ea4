// Every atom of the project, in one namespace (fogbow::atom), as VAST does.
// CAF 0.17 atoms are `atom_constant`s; their text is at most 10 characters.
// Kept free of caf/all.hpp so that this header stays cheap to include.
#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#define FOGBOW_ADD_ATOM(name, text)                                            \
  CAF_ADD_ATOM(fogbow, fogbow::atom, name, text)

FOGBOW_ADD_ATOM(ok, "ok")
FOGBOW_ADD_ATOM(put, "put")
FOGBOW_ADD_ATOM(get, "get")
FOGBOW_ADD_ATOM(erase, "erase")
FOGBOW_ADD_ATOM(list, "list")
FOGBOW_ADD_ATOM(load, "load")
FOGBOW_ADD_ATOM(create, "create")
FOGBOW_ADD_ATOM(resources, "resources")
FOGBOW_ADD_ATOM(set_capacity, "set_cap")
FOGBOW_ADD_ATOM(subscribe, "subscribe")
FOGBOW_ADD_ATOM(instance_changed, "inst_chg")
FOGBOW_ADD_ATOM(capacity_freed, "cap_freed")
FOGBOW_ADD_ATOM(instances, "instances")
FOGBOW_ADD_ATOM(instance, "instance")
FOGBOW_ADD_ATOM(erase_instance, "del_inst")
FOGBOW_ADD_ATOM(quota, "quota")
FOGBOW_ADD_ATOM(members, "members")
FOGBOW_ADD_ATOM(status, "status")
FOGBOW_ADD_ATOM(retry, "retry")
FOGBOW_ADD_ATOM(validity, "validity")
FOGBOW_ADD_ATOM(process_exit, "proc_exit")
FOGBOW_ADD_ATOM(reconcile, "reconcile")
// --- supervision ---
FOGBOW_ADD_ATOM(route, "route")

// --- tunnel ---
FOGBOW_ADD_ATOM(tunnel_register, "tun_reg")
FOGBOW_ADD_ATOM(tunnel_allocate, "tun_alloc")
FOGBOW_ADD_ATOM(tunnel_set_key, "tun_key")
FOGBOW_ADD_ATOM(tunnel_family, "tun_fam")
FOGBOW_ADD_ATOM(tunnel_auth, "tun_auth")
FOGBOW_ADD_ATOM(tunnel_auth_key, "tun_authk")
FOGBOW_ADD_ATOM(tunnel_forward, "tun_fwd")
FOGBOW_ADD_ATOM(tunnel_closed, "tun_close")
FOGBOW_ADD_ATOM(tunnel_expire, "tun_exp")
FOGBOW_ADD_ATOM(tunnel_release, "tun_rel")
FOGBOW_ADD_ATOM(tunnel_ports, "tun_ports")
// --- federation membership and the XMPP bridge ---------------------
FOGBOW_ADD_ATOM(iq_request, "iq_req")
FOGBOW_ADD_ATOM(iq_set, "iq_set")
FOGBOW_ADD_ATOM(iq_serve, "iq_serve")
FOGBOW_ADD_ATOM(xmpp_state, "xmpp_state")
FOGBOW_ADD_ATOM(heartbeat, "heartbeat")
FOGBOW_ADD_ATOM(sweep, "sweep")
FOGBOW_ADD_ATOM(sync, "sync")
// --- federation: members serving each other's orders ---------------
FOGBOW_ADD_ATOM(members_changed, "mem_chg")
FOGBOW_ADD_ATOM(serve, "serve")
FOGBOW_ADD_ATOM(served_instances, "srv_insts")
FOGBOW_ADD_ATOM(unserve, "unserve")
FOGBOW_ADD_ATOM(unserve_instance, "unsrv_ins")
FOGBOW_ADD_ATOM(served_quota, "srv_quota")
FOGBOW_ADD_ATOM(probe, "probe")
FOGBOW_ADD_ATOM(probe_tick, "probe_tick")
FOGBOW_ADD_ATOM(balances, "balances")
FOGBOW_ADD_ATOM(monitor, "monitor")
// --- accounting ---------------------------------------------------
FOGBOW_ADD_ATOM(update, "update")
FOGBOW_ADD_ATOM(usage, "usage")
FOGBOW_ADD_ATOM(exchanges, "exchanges")
FOGBOW_ADD_ATOM(account, "account")
// -- openstack driver ----------------------------------------------
FOGBOW_ADD_ATOM(poll, "poll")
FOGBOW_ADD_ATOM(run, "run")
