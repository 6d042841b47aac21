// examples/local.ts: will open the Local REPL (DESIGN.md section 8).
// The Local cache does not exist yet; until it lands this says so instead of pretending.
console.error('dstore: the Local REPL is not part of this build yet. See README.md for what works today.');
process.exit(1);
