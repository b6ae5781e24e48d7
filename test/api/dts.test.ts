// The option docs reach the .d.ts files users' editors read: every field of every public option
// interface (exported from the package's index) has a doc comment, and every optional one says
// with `@default` what leaving it out means. Reads the built declarations, not the sources.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../helpers.js';

const index = path.join(repoRoot, 'dist', 'src', 'index.d.ts');
const program = ts.createProgram([index], { strict: true, noEmit: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(index)!)!)
  .map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s));

// The interfaces of the parameters named `options` or `overrides` of the exported functions,
// classes' constructors and methods (loadSpec's SpecOverrides, resolveSpec's ResolveOptions)
function takenAsOptions(symbol: ts.Symbol): ts.Symbol[] {
  const signatures: readonly ts.Signature[] = symbol.flags & ts.SymbolFlags.Function
    ? checker.getTypeOfSymbol(symbol).getCallSignatures()
    : symbol.flags & ts.SymbolFlags.Class
      ? [
        ...checker.getTypeOfSymbol(symbol).getConstructSignatures(),
        ...[checker.getTypeOfSymbol(symbol), checker.getDeclaredTypeOfSymbol(symbol)]
          .flatMap((type) => checker.getPropertiesOfType(type))
          .flatMap((member) => (member.valueDeclaration === undefined ? [] : checker.getTypeOfSymbol(member).getCallSignatures())),
      ]
      : [];
  return signatures.flatMap((signature) => signature.parameters)
    .filter((parameter) => parameter.name === 'options' || parameter.name === 'overrides')
    .map((parameter) => checker.getNonNullableType(checker.getTypeOfSymbol(parameter)).aliasSymbol ?? checker.getNonNullableType(checker.getTypeOfSymbol(parameter)).symbol)
    .filter((found): found is ts.Symbol => found !== undefined && (found.flags & ts.SymbolFlags.Interface) !== 0);
}

// The option interfaces: those exported as *Options, AppConfig (an application's options with
// its command), and those the public functions take as their options
const optionInterfaces = [...new Set([
  ...exported.filter((s) => s.flags & ts.SymbolFlags.Interface && (s.name.endsWith('Options') || s.name === 'AppConfig')),
  ...exported.flatMap(takenAsOptions),
])];

// What is missing from one interface's docs: its own fields only (a parent is checked as itself)
function missingDocsWith(checker: ts.TypeChecker, symbol: ts.Symbol): string[] {
  const doc = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim();
  const missing: string[] = [];
  if (doc(symbol) === '') missing.push(`${symbol.name}: no doc comment`);
  for (const declaration of symbol.declarations ?? []) {
    if (!ts.isInterfaceDeclaration(declaration)) continue;
    for (const member of declaration.members) {
      const field = member.name === undefined ? undefined : checker.getSymbolAtLocation(member.name);
      if (field === undefined) continue;
      const where = `${symbol.name}.${field.name} (${path.relative(repoRoot, declaration.getSourceFile().fileName)})`;
      if (doc(field) === '') missing.push(`${where}: no doc comment`);
      const optional = (field.flags & ts.SymbolFlags.Optional) !== 0;
      const defaults = field.getJsDocTags(checker).filter((tag) => tag.name === 'default');
      if (optional && (defaults.length !== 1 || ts.displayPartsToString(defaults[0]!.text).trim() === '')) missing.push(`${where}: optional, without one @default`);
    }
  }
  return missing;
}
const missingDocs = (symbol: ts.Symbol) => missingDocsWith(checker, symbol);

test('the public option interfaces are all found in the .d.ts', () => {
  const names = optionInterfaces.map((s) => s.name);
  for (const name of ['SynchronousJobOptions', 'JobRunnerOptions', 'MapOptions', 'SubprocessOptions', 'RunnerOptions', 'AppOptions', 'AppConfig', 'StartOptions', 'InstanceOptions', 'SpecOverrides', 'ResolveOptions']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
});

// Gaps known and accepted: none. The list must shrink with them, so that it never hides a new gap
const knownGaps: string[] = [];

test('every field of a public option interface has a doc comment, and an optional one its @default', () => {
  const missing = optionInterfaces.flatMap(missingDocs);
  assert.equal(missing, knownGaps, missing.join('\n'));
});

test('the check sees a field without docs, and one without @default', () => {
  const source = ts.createSourceFile('probe.d.ts', '/** Probe */\nexport interface ProbeOptions {\n  /** Documented @default 1 */\n  a?: number;\n  /** No default */\n  b?: number;\n  c?: number;\n}\n', ts.ScriptTarget.ES2022, true);
  const host = ts.createCompilerHost({});
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (name, ...rest) => (name === 'probe.d.ts' ? source : getSourceFile.call(host, name, ...rest));
  const probe = ts.createProgram(['probe.d.ts'], { noEmit: true, types: [] }, host);
  const probeChecker = probe.getTypeChecker();
  const symbol = probeChecker.getExportsOfModule(probeChecker.getSymbolAtLocation(probe.getSourceFile('probe.d.ts')!)!)[0]!;
  assert.equal(missingDocsWith(probeChecker, symbol).map((m) => m.replace(/ \(.*\)/, '')), ['ProbeOptions.b: optional, without one @default', 'ProbeOptions.c: no doc comment', 'ProbeOptions.c: optional, without one @default']);
});

test('Future.setResult, setException and setRunning are not in the .d.ts', () => {
  const future = exported.find((s) => s.name === 'Future')!;
  const members = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(future)).map((s) => s.name);
  assert.ok(members.includes('cancel') && members.includes('result'), members.join(', '));
  for (const name of ['setResult', 'setException', 'setRunning']) assert.not.ok(members.includes(name), name);
});

test.run();
