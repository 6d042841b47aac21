// Import directions from docs/architecture.md, "Layers and import directions". `npm run deps` fails on any violation.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'Import cycles make layers impossible to reason about.',
      from: {}, to: { circular: true } },
    { name: 'protocol-imports-nothing-of-ours', severity: 'error',
      comment: 'src/protocol is the bottom layer: wire types, hashes, errors.',
      from: { path: '^src/protocol/' }, to: { path: '^src/(consensus|global|local)/' } },
    { name: 'consensus-imports-protocol-only', severity: 'error',
      comment: 'The consensus core is pure: it never imports global or local.',
      from: { path: '^src/consensus/' }, to: { path: '^src/(global|local)/' } },
    { name: 'local-never-imports-global', severity: 'error',
      comment: 'Local talks to Global only over the wire protocol.',
      from: { path: '^src/local/' }, to: { path: '^src/(global|consensus)/' } },
    { name: 'global-never-imports-local', severity: 'error',
      comment: 'Global is the server; the Local cache is a client of it.',
      from: { path: '^src/global/' }, to: { path: '^src/local/' } },
    { name: 'layers-never-import-cli-or-index', severity: 'error',
      comment: 'src/cli (the dstore command) and src/index.ts (the public API) sit on top: nothing below imports them.',
      from: { path: '^src/(protocol|consensus|global|local)/' }, to: { path: '^src/(cli/|index\\.ts$)' } },
    { name: 'src-never-imports-test-or-bench', severity: 'error',
      from: { path: '^src/' }, to: { path: '^(test|bench|examples|scripts)/' } },
    { name: 'no-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
