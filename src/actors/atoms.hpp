// Every atom of the project, in one namespace (fogbow::atom), as VAST does.
// CAF 0.17 atoms are `atom_constant`s; their text is at most 10 characters.
// Kept free of caf/all.hpp so that this header stays cheap to include.
#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#define FOGBOW_ADD_ATOM(name, text) CAF_ADD_ATOM(fogbow, fogbow::atom, name, text)

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

// -- openstack driver (issue 5) ----------------------------------------------
FOGBOW_ADD_ATOM(poll, "poll")
FOGBOW_ADD_ATOM(run, "run")
