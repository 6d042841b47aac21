// The Local REPL: `dstore local` (src/cli/local-command.ts), run from the repository through
// tsx; `npm start` runs it.
//
//   npx tsx examples/local.ts                                  Global at 127.0.0.1:50051; if none
//                                                              answers, starts one in this process
//   npx tsx examples/local.ts --global h1:p1,h2:p2,h3:p3 --listen 127.0.0.1:50053
//   printf 'SET a 1\nGET a\n' | npx tsx examples/local.ts       a script: answers only, exit 1 on a failure
//   npx tsx examples/local.ts --help                           every flag
import { fileURLToPath } from 'node:url';
import { run } from '../src/cli/main.ts';

await run('local', process.argv.slice(2), { relaunch: [fileURLToPath(import.meta.url)] });
