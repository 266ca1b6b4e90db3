#!/usr/bin/env node
// Fails when the Rust modules of a crate import each other in a circle.
//
//   node scripts/check-rust-cycles.mjs [crates/stowage-node/src]
//
// Each .rs file is a module; an edge A -> B is any `crate::…` or `super::…` path in A's code
// that names B (or an item in B), test modules (`#[cfg(test)] mod tests`) left out. A parent
// declaring its children (`mod x;`) is not an edge. `cargo modules dependencies --acyclic`
// answers the same question, but building it costs minutes on every fresh machine; this
// reads the sources in well under a second.
import fs from 'node:fs'
import path from 'node:path'

const root = path.resolve(process.argv[2] ?? 'crates/stowage-node/src')

/** Every .rs file under `dir`, with its module path (`ops::get`, `backends::local`). */
function modules(dir, prefix = []) {
  const out = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...modules(full, [...prefix, entry.name]))
    else if (entry.name.endsWith('.rs')) {
      const stem = entry.name.slice(0, -3)
      const isRoot = prefix.length === 0 && (stem === 'lib' || stem === 'main')
      const name = stem === 'mod' || isRoot ? prefix : [...prefix, stem]
      out.push({ file: path.relative(root, full), name: name.join('::') })
    }
  }
  return out
}

/** The code of a file without its comments and its test modules. */
function productionCode(text) {
  const withoutComments = text.replace(/\/\/[^\n]*/g, '')
  const testStart = withoutComments.search(/#\[cfg\(test\)\]\s*mod\s+\w+\s*\{/)
  return testStart === -1 ? withoutComments : withoutComments.slice(0, testStart)
}

const all = modules(root)
const byName = new Map(all.map((m) => [m.name, m]))

/** The module a path like `a::b::Item` lands in: its longest prefix that is a module. */
function resolve(segments) {
  for (let n = segments.length; n > 0; n--) {
    const candidate = segments.slice(0, n).join('::')
    if (byName.has(candidate)) return candidate
  }
  return null
}

const edges = new Map(all.map((m) => [m.name, new Set()]))
for (const module of all) {
  const code = productionCode(fs.readFileSync(path.join(root, module.file), 'utf8'))
  const own = module.name ? module.name.split('::') : []
  const isModRs = module.file.endsWith('mod.rs') || module.file === 'lib.rs'
  // `super` of a.rs is its directory's module; of a/mod.rs, the directory's parent.
  const parent = isModRs ? own.slice(0, -1) : own.slice(0, -1)
  const paths = []
  for (const match of code.matchAll(/\b(crate|super)((?:::\w+)+)/g)) {
    const rest = match[2].split('::').filter(Boolean)
    paths.push(match[1] === 'crate' ? rest : [...parent, ...rest])
  }
  // Grouped imports: `use crate::a::{b, c::d}` names a::b and a::c::d.
  for (const match of code.matchAll(/\buse\s+(crate|super)((?:::\w+)*)::\{([^}]*)\}/g)) {
    const base = match[2].split('::').filter(Boolean)
    const head = match[1] === 'crate' ? base : [...parent, ...base]
    for (const item of match[3].split(',')) {
      const segments = item.trim().split(/\s+as\s+/)[0].split('::').filter((s) => /^\w+$/.test(s))
      if (segments.length) paths.push([...head, ...segments])
    }
  }
  for (const segments of paths) {
    const target = resolve(segments)
    if (target !== null && target !== module.name && target !== '') edges.get(module.name).add(target)
  }
}

// Tarjan's strongly connected components: any component of two or more modules is a cycle.
let index = 0
const stack = []
const state = new Map()
const cycles = []
function connect(v) {
  state.set(v, { index, low: index, onStack: true })
  index++
  stack.push(v)
  for (const w of edges.get(v)) {
    if (!state.has(w)) {
      connect(w)
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low)
    } else if (state.get(w).onStack) {
      state.get(v).low = Math.min(state.get(v).low, state.get(w).index)
    }
  }
  if (state.get(v).low === state.get(v).index) {
    const component = []
    let w
    do {
      w = stack.pop()
      state.get(w).onStack = false
      component.push(w)
    } while (w !== v)
    if (component.length > 1) cycles.push(component)
  }
}
for (const v of edges.keys()) if (!state.has(v)) connect(v)

const edgeCount = [...edges.values()].reduce((sum, set) => sum + set.size, 0)
if (cycles.length === 0) {
  console.log(`rust modules: no import cycles (${all.length} modules, ${edgeCount} edges, ${path.relative(process.cwd(), root)})`)
} else {
  for (const cycle of cycles) {
    const members = new Set(cycle)
    const detail = cycle.map((m) => `${m} -> ${[...edges.get(m)].filter((t) => members.has(t)).join(', ')}`)
    console.error(`rust modules: import cycle among ${cycle.join(', ')}\n  ${detail.join('\n  ')}`)
  }
  process.exit(1)
}
