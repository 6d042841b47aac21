// examples/global.ts: will start a Global replica (DESIGN.md section 7).
// The replica driver does not exist yet; until it lands this says so instead of pretending.
console.error('dstore: the Global server is not part of this build yet. See README.md for what works today.');
process.exit(1);
