// N worker processes sharing keys and a blob through dstore: `dstore workers`
// (src/cli/workers-command.ts), run from the repository through tsx.
//
//   npx tsx examples/workers.ts                              4 workers, each linking its own Local
//   npx tsx examples/workers.ts --workers 8 --mode attached  8 workers attached to one Local
//   npx tsx examples/workers.ts --help                       every flag
import { fileURLToPath } from 'node:url';
import { run } from '../src/cli/main.ts';

await run('workers', process.argv.slice(2), { relaunch: [fileURLToPath(import.meta.url)] });
