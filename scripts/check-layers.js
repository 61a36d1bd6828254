#!/usr/bin/env node
'use strict';
// The house check of `npm run lint`: lib/'s import graph read from the sources (type-only imports
// included), against the table in lib/rooms.json: no circle between files, no import into a room
// the importing room may not use, no static path from the modules that must run without native
// code (LibTorch, libvips) to the addon or to sharp, and every room opening with a statement of its trade (its index.ts's first
// line). `node scripts/check-layers.js` prints each breach and exits 1 if there is one.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const LIB = path.resolve(__dirname, '..', 'lib');

/** Every .ts file under `dir`, as paths relative to it with '/' separators. */
function sourceFiles(dir) {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

/** The module a relative specifier names, as a path relative to lib/, or undefined outside lib/ or unresolved. */
function resolve(libDir, from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(libDir, path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate)) {
      const relative = path.relative(libDir, candidate).split(path.sep).join('/');
      return relative.startsWith('..') ? undefined : relative;
    }
  }
  return undefined;
}

/**
 * The imports of one source: { to, kind } with kind 'type' (erased by tsc), 'static' or 'dynamic'
 * (import() and require(), which load when they run).
 */
function importsOf(libDir, file, text, packages = []) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = [];
  const add = (specifier, kind) => {
    const to = packages.includes(specifier) ? specifier : resolve(libDir, file, specifier);
    if (to) found.push({ to, kind });
  };
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, isTypeOnly(node) ? 'type' : 'static');
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0]) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      add(node.arguments[0].text, 'dynamic');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** An import or export that tsc erases: `import type`, or one whose every named binding is `type`. */
function isTypeOnly(node) {
  if (ts.isExportDeclaration(node)) {
    return node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) &&
      node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
  }
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly);
}

/** The room of a file: its first folder under lib/, or '' for lib/'s own files (the public surface). */
function roomOf(file) {
  return file.includes('/') ? file.split('/')[0] : '';
}

/** '*' matches within one path segment. */
function matches(pattern, file) {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return re.test(file);
}

/** Each circle once, as the files around it (Tarjan's strongly connected components). */
function circles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const connect = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const { to: w } of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v);
      if (component.length > 1 || selfLoop) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return found;
}

/** The path of static imports from `from` to `to`, or undefined. */
function staticPath(graph, from, to) {
  const previous = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === to) {
      const way = [];
      for (let w = v; w !== undefined; w = previous.get(w)) way.unshift(w);
      return way;
    }
    for (const { to: w, kind } of graph.get(v) ?? []) {
      if (kind === 'static' && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

function readRules(libDir = LIB) {
  return JSON.parse(fs.readFileSync(path.join(libDir, 'rooms.json'), 'utf8'));
}

/** Every source file under `libDir` -> its imports ({ to, kind }); `packages` are followed by name. */
function importGraph(libDir = LIB, packages = []) {
  return new Map(sourceFiles(libDir).map((f) => [f, importsOf(libDir, f, fs.readFileSync(path.join(libDir, f), 'utf8'), packages)]));
}

/**
 * Checks the sources under `libDir` (default: lib/) against `rules` (default: lib/rooms.json);
 * returns the breaches as sentences, none when the house stands as drawn.
 */
function checkLayers(libDir = LIB, rules = readRules(libDir)) {
  const files = sourceFiles(libDir);
  const { modules, native } = rules.withoutNative;
  const packages = native.filter((n) => !n.endsWith('.ts'));
  const graph = importGraph(libDir, packages);
  const problems = [];
  const rooms = rules.rooms;
  for (const file of files) {
    const room = roomOf(file);
    if (room !== '' && !(room in rooms)) problems.push(`${file}: its folder '${room}' is no room of lib/rooms.json`);
  }
  for (const room of Object.keys(rooms)) {
    const index = path.join(libDir, room, 'index.ts');
    const first = fs.existsSync(index) ? fs.readFileSync(index, 'utf8').split('\n')[0] : '';
    if (!/^\/\/ \S/.test(first)) problems.push(`${room}/index.ts must open with a one-line comment stating the room's trade`);
    for (const used of rooms[room]) if (!(used in rooms)) problems.push(`lib/rooms.json: room '${room}' uses '${used}', which is no room`);
  }
  for (const [file, edges] of graph) {
    const room = roomOf(file);
    if (room === '' || !(room in rooms)) continue;
    for (const { to, kind } of edges) {
      if (packages.includes(to)) continue;
      const target = roomOf(to);
      if (target === room) continue;
      if (target === '' || !rooms[room].includes(target)) {
        problems.push(`${file} imports ${to}${kind === 'type' ? ' (types)' : ''}: ${room}/ may not use ${target === '' ? "lib/'s own files" : `${target}/`}`);
      }
    }
  }
  for (const circle of circles(graph)) problems.push(`import circle: ${circle.join(' -> ')}`);
  for (const file of files.filter((f) => modules.some((p) => matches(p, f)))) {
    for (const target of native) {
      const way = staticPath(graph, file, target);
      if (way) problems.push(`${file} must run without native code, but loads ${target}: ${way.join(' -> ')}`);
    }
  }
  problems.push(...scriptImports(path.dirname(libDir), rules.scripts ?? []));
  return problems;
}

/** The imports of scripts/*.ts into folders of the repository other than `allowed` (and scripts/ itself). */
function scriptImports(rootDir, allowed) {
  const dir = path.join(rootDir, 'scripts');
  if (!fs.existsSync(dir)) return [];
  const problems = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, fs.readFileSync(path.join(dir, file), 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const visit = (node) => {
      const specifier = (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)
        ? node.moduleSpecifier.text : undefined;
      if (specifier?.startsWith('.')) {
        const target = path.relative(rootDir, path.resolve(dir, specifier)).split(path.sep)[0];
        if (target !== 'scripts' && !allowed.includes(target)) problems.push(`scripts/${file} imports ${specifier}: scripts/ may use only ${['scripts', ...allowed].join(', ')}/`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return problems;
}

module.exports = { checkLayers, readRules, importGraph, staticPath, LIB };

if (require.main === module) {
  const started = Date.now();
  const problems = checkLayers();
  for (const p of problems) console.error(`house check: ${p}`);
  if (problems.length > 0) {
    console.error(`house check: ${problems.length} breach${problems.length === 1 ? '' : 'es'} of lib/rooms.json`);
    process.exit(1);
  }
  console.log(`house check: lib/ stands as lib/rooms.json draws it (${Date.now() - started} ms)`);
}
