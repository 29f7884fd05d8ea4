// Fogbow dashboard: a client of the manager's public REST API (/v1/...),
// like the CLI. No framework, no build step. Every value from the server
// reaches the page through textContent or a form value, never as HTML.

const TOKEN_KEY = "fogbow.token";
const SSH_USER_KEY = "fogbow.sshUser";
const REFRESH_MS = 3000;
const KINDS = [
  ["computes", "compute"],
  ["volumes", "volume"],
  ["networks", "network"],
  ["attachments", "attachment"],
];

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  memberId: null,
  timer: null,
  rendered: new Map(), // section -> last JSON shown, to re-render on change
  open: new Set(), // instance ids whose access line is unfolded
  armed: null, // order id whose delete button waits for a confirmation
  refreshing: false, // a refresh is walking the lists
  again: false, // another refresh was asked for meanwhile
};

// One request; resolves to the parsed body, rejects with an ApiError that
// carries the server's {"error": {"code", "message"}}.
async function api(method, path, body, token = state.token) {
  const headers = { Accept: "application/json" };
  if (token) headers["X-Auth-Token"] = token;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network", `the manager cannot be reached (${e.message})`);
  }
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!r.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(r.status, err.code || `http_${r.status}`,
                       err.message || `HTTP ${r.status}`);
  }
  return data;
}

// Every item of a paged list (GET /v1/orders, /v1/computes, ...,
// /v1/members): the first page at the server's default size, then each
// "next" link until there is none, as the CLI does. A marker deleted
// between two pages makes the server answer 400; the walk then starts
// over once. A link that leaves /v1/ or repeats stops the walk, so a
// misbehaving server cannot loop it.
async function listAll(path, key) {
  for (let attempt = 0; ; attempt++) {
    const items = [];
    const seen = new Set();
    let next = path;
    try {
      while (next) {
        seen.add(next);
        const page = await api("GET", next);
        items.push(...(page[key] || []));
        next = nextLink(page);
        if (next && (!next.startsWith("/v1/") || seen.has(next))) next = null;
      }
      return items;
    } catch (e) {
      if (e.status !== 400 || next === path || attempt > 0) throw e;
    }
  }
}

function nextLink(page) {
  const link = (page.links || []).find((l) => l && l.rel === "next");
  return link && typeof link.href === "string" ? link.href : null;
}

// h("td", {class: "x"}, "text", child): an element; strings become text.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function show(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

function table(headers, rows, empty = "none") {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows));
}

const dash = (v) => (v === null || v === undefined || v === "" ? "—" : v);
const time = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+/, "") : "—");
const stateBadge = (s) => h("span", { class: `badge s-${s}` }, s);

// ---- sign in / out -------------------------------------------------------

async function signIn(token) {
  // Any authenticated read tells whether the token is valid.
  await api("GET", "/v1/orders", undefined, token);
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
}

function signOut(message) {
  clearInterval(state.timer);
  state.timer = null;
  state.token = null;
  state.rendered.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("refreshed").textContent = "";
  show($("sign-in-error"), message);
  $("token").value = "";
  $("token").focus();
}

function enterApp() {
  $("sign-in").hidden = true;
  show($("sign-in-error"), "");
  $("app").hidden = false;
  $("sign-out").hidden = false;
  refresh();
  state.timer = setInterval(refresh, REFRESH_MS);
}

function signInMessage(e) {
  if (e.status === 401) return `Sign-in failed: ${e.message}. Check the token.`;
  if (e.status === 403) return `Sign-in failed: this user may not read orders (${e.message}).`;
  return `Sign-in failed: ${e.message}`;
}

// ---- refreshing the views ------------------------------------------------

// Renders `section` with `draw(data)` only when its data changed, so an
// unfolded line or a half-confirmed delete survives the periodic refresh.
function update(section, data, draw) {
  const key = JSON.stringify(data) + (section === "orders" ? state.armed : "")
    + (section === "instances" ? [...state.open].join() + sshUser() : "");
  if (state.rendered.get(section) === key) return;
  state.rendered.set(section, key);
  draw(data);
}

// One refresh at a time: walking long lists page by page may take longer
// than REFRESH_MS, and overlapping walks would only pile up. A refresh
// asked for meanwhile (after a create or delete) runs once it ends.
async function refresh() {
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    do {
      state.again = false;
      await refreshOnce();
    } while (state.again);
  } finally {
    state.refreshing = false;
  }
}

async function refreshOnce() {
  if (!state.token) return;
  const errors = [];
  const guard = (p) => p.catch((e) => {
    if (e.status === 401) throw e;
    errors.push(e.message);
    return null;
  });
  try {
    if (!state.memberId) {
      const status = await guard(api("GET", "/v1/status"));
      if (status) {
        state.memberId = status.member_id;
        $("site").textContent = `${status.member_id} · ${status.version}`;
      }
    }
    const [orders, members, usage, quota, ...instances] = await Promise.all([
      guard(listAll("/v1/orders", "orders")),
      guard(listAll("/v1/members", "members")),
      api("GET", "/v1/usage").catch((e) => (e.status === 501 ? { off: true } : guard(Promise.reject(e)))),
      state.memberId ? guard(api("GET", `/v1/members/${encodeURIComponent(state.memberId)}/quota`)) : null,
      ...KINDS.map(([path]) => guard(listAll(`/v1/${path}`, path))),
    ]);
    if (orders) update("orders", orders, drawOrders);
    if (quota) update("quota", quota, drawQuota);
    if (members) update("members", members, drawMembers);
    if (usage) update("usage", usage, drawUsage);
    if (instances.every(Boolean)) update("instances", instances, drawInstances);
    show($("banner"), errors.length ? `Some views could not be refreshed: ${[...new Set(errors)].join("; ")}` : "");
    $("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (e.status === 401) signOut(`Signed out: ${e.message}.`);
    else show($("banner"), e.message);
  }
}

// ---- orders --------------------------------------------------------------

function deleteButton(order) {
  const armed = state.armed === order.id;
  return h("button", {
    type: "button",
    class: armed ? "danger armed" : "danger",
    "data-action": "delete",
    onclick: async () => {
      if (state.armed !== order.id) {
        state.armed = order.id;
        state.rendered.delete("orders");
        refresh();
        return;
      }
      state.armed = null;
      try {
        await api("DELETE", `/v1/orders/${encodeURIComponent(order.id)}`);
      } catch (e) {
        show($("banner"), `Delete failed: ${e.message}`);
      }
      state.rendered.delete("orders");
      refresh();
    },
  }, armed ? "Confirm delete" : "Delete");
}

function drawOrders(orders) {
  const sorted = [...orders].sort((a, b) => b.created_at.localeCompare(a.created_at));
  const rows = sorted.map((o) => h("tr", { "data-order-id": o.id, "data-state": o.state },
    h("td", { class: "mono" }, o.id),
    h("td", {}, o.kind),
    h("td", {}, stateBadge(o.state)),
    h("td", {}, o.type),
    h("td", {}, dash(o.providing_member)),
    h("td", { class: "mono" }, dash(o.instance_id)),
    h("td", {}, time(o.created_at)),
    h("td", { class: "error-text" }, dash(o.last_error)),
    h("td", {}, o.state === "deleted" ? "" : deleteButton(o))));
  $("orders-count").textContent = `(${orders.length})`;
  $("orders-table").replaceChildren(table(
    ["id", "kind", "state", "type", "provider", "instance", "created", "last error", ""],
    rows, "No orders yet."));
}

function orderBody(form) {
  const data = new FormData(form);
  const kind = data.get("kind");
  const body = { kind, type: data.get("type"), count: Number(data.get("count") || 1) };
  const fieldset = form.querySelector(`fieldset[data-kind="${kind}"]`);
  for (const input of fieldset.querySelectorAll("input, select, textarea")) {
    const v = input.value.trim();
    if (v === "") continue;
    body[input.name] = input.type === "number" ? Number(v) : v;
  }
  return body;
}

async function createOrder(ev) {
  ev.preventDefault();
  const form = ev.target;
  show($("order-error"), "");
  show($("order-created"), "");
  try {
    const r = await api("POST", "/v1/orders", orderBody(form));
    const ids = r.orders.map((o) => o.id).join(", ");
    show($("order-created"), `Created ${r.orders.length} order(s): ${ids}`);
  } catch (e) {
    show($("order-error"), `Not created: ${e.message}`);
  }
  state.rendered.delete("orders");
  refresh();
}

function showKindFields() {
  const kind = $("order-kind").value;
  for (const fs of document.querySelectorAll("#order-form fieldset")) {
    fs.hidden = fs.dataset.kind !== kind;
    fs.disabled = fs.hidden;
  }
}

// ---- instances -----------------------------------------------------------

function sshUser() {
  return $("ssh-user").value.trim() || "fogbow";
}

// "host:port" or "[v6]:port" -> [host, port]
function splitAddress(address) {
  const i = address.lastIndexOf(":");
  let host = address.slice(0, i);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return [host, address.slice(i + 1)];
}

function sshCommand(address) {
  const [host, port] = splitAddress(address);
  return `ssh -p ${port} ${sshUser()}@${host}`;
}

function portCommand(name, address) {
  const [host, port] = splitAddress(address);
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return /^(http|web|www)/i.test(name) ? `curl http://${hostPart}:${port}/` : `nc ${host} ${port}`;
}

function copyLine(label, command, kind) {
  const input = h("input", { readonly: true, class: "mono command", value: command, "data-command": kind });
  const button = h("button", {
    type: "button",
    class: "copy",
    onclick: async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(command);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    },
  }, "Copy");
  return h("div", { class: "copy-line" }, h("span", { class: "label" }, label), input, button);
}

function accessCell(x) {
  if (!x.ssh_public_address) return h("span", { class: "muted" }, "no public address yet");
  const details = h("details", { class: "access", "data-instance-id": x.id, open: state.open.has(x.id) },
    h("summary", {}, `SSH ${x.ssh_public_address}`),
    copyLine("ssh", sshCommand(x.ssh_public_address), "ssh"),
    Object.entries(x.extra_ports || {}).map(([name, addr]) =>
      copyLine(`${name} ${addr}`, portCommand(name, addr), `port-${name}`)));
  details.addEventListener("toggle", () => {
    if (details.open) state.open.add(x.id);
    else state.open.delete(x.id);
  });
  return details;
}

const INSTANCE_COLUMNS = {
  compute: [["flavor", "vcpu", "memory MB", "ip", "public access"],
    (x) => [dash(x.flavor), dash(x.vcpu), dash(x.memory_mb), dash(x.ip), accessCell(x)]],
  volume: [["size GB", "attached to"], (x) => [x.size_gb, dash(x.attached_to)]],
  network: [["cidr", "gateway"], (x) => [dash(x.network_cidr), dash(x.network_gateway)]],
  attachment: [["compute", "volume", "device"], (x) => [x.compute, x.volume, dash(x.device)]],
};

function drawInstances(lists) {
  const parts = KINDS.map(([path, kind], i) => {
    const xs = lists[i];
    const [headers, cells] = INSTANCE_COLUMNS[kind];
    const rows = xs.map((x) => h("tr", { "data-instance-id": x.id, "data-order-id": x.order_id },
      h("td", { class: "mono" }, x.id),
      h("td", {}, stateBadge(x.state)),
      cells(x).map((c) => h("td", {}, c)),
      h("td", { class: "error-text" }, dash(x.fault))));
    return h("div", { class: "kind", id: `instances-${path}` },
      h("h3", {}, `${path} (${xs.length})`),
      table(["id", "state", ...headers, "fault"], rows));
  });
  $("instances-tables").replaceChildren(...parts);
}

// ---- quota, members, usage -----------------------------------------------

function bar(label, part, unit = "") {
  const total = Math.max(part.total, part.in_use, 1);
  const mine = Math.min(part.in_use_by_user, part.in_use);
  const pct = (n) => `${(100 * n) / total}%`;
  const segMine = h("span", { class: "seg mine" });
  const segOthers = h("span", { class: "seg others" });
  // CSSOM, not a style attribute: allowed by the page's CSP.
  segMine.style.width = pct(mine);
  segOthers.style.width = pct(part.in_use - mine);
  return h("div", { class: "quota-row", "data-quota": label },
    h("div", { class: "quota-label" }, h("strong", {}, label),
      h("span", { class: "muted" }, ` ${part.in_use} of ${part.total}${unit} in use, ${part.in_use_by_user}${unit} yours`)),
    h("div", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": part.total, "aria-valuenow": part.in_use },
      segMine, segOthers));
}

function drawQuota(q) {
  $("quota-member").textContent = q.member_id;
  $("quota-bars").replaceChildren(
    bar("vCPU", q.vcpu), bar("Memory", q.memory_mb, " MB"), bar("Instances", q.instances));
}

const num = (v) => (typeof v === "number" ? Math.round(v * 100) / 100 : "—");

function drawMembers(members) {
  const rows = members.map((m) => h("tr", { "data-member-id": m.id },
    h("td", { class: "mono" }, m.id, m.self ? h("span", { class: "badge self" }, "this site") : null),
    h("td", { class: "nowrap" }, h("span", { class: m.alive ? "dot alive" : "dot dead" }), m.alive ? "alive" : "not alive"),
    h("td", {}, time(m.last_seen)),
    h("td", {}, num(m.consumed_vcpu_minutes)),
    h("td", {}, num(m.donated_vcpu_minutes)),
    h("td", {}, num(m.debt))));
  $("members-table").replaceChildren(table(
    ["member", "state", "last seen", "consumed vCPU·min", "donated vCPU·min", "debt"], rows));
}

function drawUsage(u) {
  if (u.off) {
    $("usage-view").replaceChildren(h("p", { class: "muted" }, "This manager keeps no accounting."));
    return;
  }
  const line = (a) => [num(a.vcpu_minutes), num(a.memory_mb_minutes), num(a.volume_gb_minutes)];
  const rows = [h("tr", {}, h("td", {}, "here (local)"), line(u.local).map((c) => h("td", {}, c)))];
  for (const m of u.members || []) {
    rows.push(h("tr", {}, h("td", {}, `${m.id}: consumed`), line(m.consumed).map((c) => h("td", {}, c))));
    rows.push(h("tr", {}, h("td", {}, `${m.id}: donated`), line(m.donated).map((c) => h("td", {}, c))));
  }
  $("usage-view").replaceChildren(table(["where", "vCPU·min", "memory MB·min", "volume GB·min"], rows));
}

// ---- start ---------------------------------------------------------------

function start() {
  $("ssh-user").value = localStorage.getItem(SSH_USER_KEY) || "fogbow";
  $("ssh-user").addEventListener("change", () => {
    localStorage.setItem(SSH_USER_KEY, sshUser());
    refresh();
  });
  $("order-kind").addEventListener("change", showKindFields);
  showKindFields();
  $("order-form").addEventListener("submit", createOrder);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("sign-in-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = $("token").value.trim();
    show($("sign-in-error"), "");
    try {
      await signIn(token);
      enterApp();
    } catch (e) {
      show($("sign-in-error"), signInMessage(e));
    }
  });
  if (state.token) enterApp();
}

start();
