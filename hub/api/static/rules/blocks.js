/* The block model the builder edits, and its plain conversion to and from the API's block
   document (/work/contract-22.md: COND = {field, op, value} | {all: [..]} | {any: [..]} |
   {not: COND}). Pure functions and small mutations; no DOM here.

   In the model every rule's `when` is a group {kind: "all"|"any"|"not", items: [...]} whose
   items are leaves {field, op, value} or groups; a `not` group negates the conjunction of
   its items. A condition is addressed by {rule, at}: `at` lists child indices from the
   rule's root group ([] = the root itself). */

export const isGroup = (node) => node && Array.isArray(node.items);

function fromCond(cond) {
  if (!cond) return { kind: "all", items: [] };
  if (cond.field !== undefined) return { field: cond.field, op: cond.op, value: cond.value };
  if (cond.all) return { kind: "all", items: cond.all.map(fromCond) };
  if (cond.any) return { kind: "any", items: cond.any.map(fromCond) };
  if (cond.not) {
    const inner = fromCond(cond.not);
    return { kind: "not", items: isGroup(inner) && inner.kind === "all" ? inner.items : [inner] };
  }
  return { kind: "all", items: [] };
}

/* A group of one item means that item; an empty nested group is dropped (the checker
   refuses empty lists); an empty root means "always" (`when: null`). */
function toCond(node) {
  if (!isGroup(node)) {
    return { field: node.field, op: node.op, value: node.value };
  }
  const items = node.items.map(toCond).filter(Boolean);
  if (!items.length) return null;
  if (node.kind === "not") return { not: items.length === 1 ? items[0] : { all: items } };
  if (items.length === 1) return items[0];
  return { [node.kind]: items };
}

/* `next_version` (from open): the version a new draft needs, put in settings.version. */
export function fromDocument(doc, nextVersion = null) {
  const settings = { ...(doc.settings || {}) };
  if (nextVersion && !(Number(settings.version) >= nextVersion)) settings.version = nextVersion;
  return {
    settings,
    hit_policy: doc.hit_policy || "first",
    rules: (doc.rules || []).map((r) => {
      let when = fromCond(r.when);
      if (!isGroup(when)) when = { kind: "all", items: [when] };
      return { ...r, when, then: { ...(r.then || {}) } };
    }),
  };
}

export function toDocument(model) {
  return {
    settings: model.settings,
    hit_policy: model.hit_policy,
    rules: model.rules.map((r) => {
      const { when, then, ...rest } = r;
      return { ...rest, when: toCond(when), then: { ...then } };
    }),
  };
}

/* ---- addressing ---------------------------------------------------------------------- */
export const pathKey = (p) => `${p.rule}:${p.at.join(".")}`;
export function parseKey(key) {
  const [rule, at] = key.split(":");
  return { rule: Number(rule), at: at ? at.split(".").map(Number) : [] };
}
export function nodeAt(model, p) {
  let node = model.rules[p.rule].when;
  for (const i of p.at) node = node.items[i];
  return node;
}
const parentOf = (p) => ({ rule: p.rule, at: p.at.slice(0, -1) });
const within = (outer, inner) => outer.rule === inner.rule && outer.at.length <= inner.at.length
  && outer.at.every((v, i) => inner.at[i] === v);

/* Every group of every rule, in page order (the "move to group" choices). */
export function groups(model) {
  const out = [];
  const walk = (node, p) => {
    if (!isGroup(node)) return;
    out.push({ path: p, kind: node.kind, depth: p.at.length });
    node.items.forEach((child, i) => walk(child, { rule: p.rule, at: [...p.at, i] }));
  };
  model.rules.forEach((r, i) => walk(r.when, { rule: i, at: [] }));
  return out;
}

/* ---- edits (each returns the new path of what moved, for focus) ------------------------- */
export function renumber(model) {
  model.rules.forEach((r, i) => { r.precedence = (i + 1) * 10; });
}

export function moveRule(model, from, to) {
  const clamped = Math.max(0, Math.min(model.rules.length - 1, to));
  if (clamped === from) return from;
  const [rule] = model.rules.splice(from, 1);
  model.rules.splice(clamped, 0, rule);
  renumber(model);
  return clamped;
}

export function insertRule(model, index, rule) {
  const at = Math.max(0, Math.min(model.rules.length, index));
  model.rules.splice(at, 0, rule);
  renumber(model);
  return at;
}

export function newRule(model) {
  const taken = new Set(model.rules.map((r) => r.id));
  let n = model.rules.length + 1;
  while (taken.has(`rule-${n}`)) n += 1;
  return { id: `rule-${n}`, precedence: 0, line: null, when: { kind: "all", items: [] }, then: {} };
}

export function insertNode(model, group, index, node) {
  const target = nodeAt(model, group);
  const at = Math.max(0, Math.min(target.items.length, index));
  target.items.splice(at, 0, node);
  return { rule: group.rule, at: [...group.at, at] };
}

export function removeNode(model, p) {
  const parent = nodeAt(model, parentOf(p));
  return parent.items.splice(p.at[p.at.length - 1], 1)[0];
}

/* Move the condition or group at `from` to position `index` of the group at `group`.
   A group cannot move into itself; returns the moved node's new path, or null. */
export function moveNode(model, from, group, index) {
  if (!from.at.length || within(from, group)) return null;
  const node = nodeAt(model, from);
  const fromParent = parentOf(from);
  const fromIndex = from.at[from.at.length - 1];
  let target = group;
  let at = index;
  if (pathKey(fromParent) === pathKey(group) && fromIndex < index) at -= 1;
  removeNode(model, from);
  // removing `from` shifts later siblings of the group's ancestors one place left
  if (fromParent.rule === group.rule && within(fromParent, group)
      && group.at.length > fromParent.at.length && group.at[fromParent.at.length] > fromIndex) {
    const shifted = [...group.at];
    shifted[fromParent.at.length] -= 1;
    target = { rule: group.rule, at: shifted };
  }
  return insertNode(model, target, at, node);
}

/* Alt+ArrowUp/Down on a condition: one place within its group. */
export function shiftNode(model, p, delta) {
  if (!p.at.length) return null;
  const parent = parentOf(p);
  const siblings = nodeAt(model, parent).items;
  const i = p.at[p.at.length - 1];
  const j = i + delta;
  if (j < 0 || j >= siblings.length) return null;
  [siblings[i], siblings[j]] = [siblings[j], siblings[i]];
  return { rule: p.rule, at: [...parent.at, j] };
}

/* The model path a problem's `block` names: [rule index, ...] with the condition's child
   indices among any strings ("when", "all", ...). Tolerant of either spelling. */
export function problemPath(model, problem) {
  let rule = null;
  let rest = [];
  if (Array.isArray(problem.block) && problem.block.length) {
    const nums = problem.block.filter((x) => Number.isInteger(x));
    [rule, ...rest] = nums;
  }
  if ((rule === null || rule === undefined) && problem.rule_id) {
    rule = model.rules.findIndex((r) => r.id === problem.rule_id);
  }
  if (rule === null || rule === undefined || rule < 0 || rule >= model.rules.length) return null;
  const at = [];
  let node = model.rules[rule].when;
  for (const i of rest) {
    if (!isGroup(node) || i >= node.items.length) break;
    at.push(i);
    node = node.items[i];
  }
  return { rule, at };
}
