// An inline task function arrives as source text, and a compiler may have written calls to
// its own helpers into it: esbuild with `keepNames` (tsx, vite-node) names inner functions
// with `__name(fn, "name")`, and tsc below ES2017 lowers async functions to
// `__awaiter(this, void 0, void 0, function* () {...})`. The helpers live in the caller's
// module, not in the function, so the worker provides its own: scoped to the function (no
// global is set), and only those its source mentions. So does polytask's own move(), which an
// inline function cannot import.

const helpers: Record<string, string> = {
  // esbuild's keepNames: sets a function's name
  __name: 'var __name = (target, value) => Object.defineProperty(target, "name", { value, configurable: true });',
  // tsc's async lowering: runs a generator as an async function, each yield an await
  __awaiter: 'var __awaiter = (thisArg, args, P, generator) => new (P || Promise)((resolve, reject) => {' +
    ' const it = generator.apply(thisArg, args || []);' +
    ' const step = (method, arg) => { let r; try { r = it[method](arg); } catch (e) { reject(e); return; }' +
    ' if (r.done) resolve(r.value); else (P || Promise).resolve(r.value).then((v) => step("next", v), (e) => step("throw", e)); };' +
    ' step("next", undefined); });',
  // polytask's move() (move.ts), for an inline function that returns a buffer without a copy
  move: 'var move = (value) => ({ [Symbol.for("polytask.move")]: true, value, transfer: ArrayBuffer.isView(value) ? value.buffer : value, sent: false });',
};

// a helper's name as a word: `remove(` does not call move()
const mentions = Object.fromEntries(Object.keys(helpers).map((name) => [name, new RegExp(`(^|[^\\w$])${name}($|[^\\w$])`)]));

/**
 * Evaluates a function's source text in the global scope (indirect eval: nothing of the
 * caller is visible), with the compiler helpers it mentions. Line 1 of the source stays line 1
 * of the code, so that a stack trace's line numbers match the function's own.
 */
export function evaluateSource(source: string): unknown {
  const needed = Object.keys(helpers).filter((name) => mentions[name]!.test(source));
  if (needed.length === 0) return (0, eval)(`(${source}\n)`);
  return (0, eval)(`(() => { ${needed.map((name) => helpers[name]).join(' ')} return (${source}\n); })()`);
}
