// Starts a Global replica: `dstore global` (src/cli/global-command.ts; docs/running-global.md),
// run from the repository through tsx.
//
//   npx tsx examples/global.ts                      one replica on 127.0.0.1:50051, data in ./data
//   npx tsx examples/global.ts --cluster 3          three replicas on 50051..50053 as child processes
//   npx tsx examples/global.ts status --peers 127.0.0.1:50051   the cluster as a table (dstore status)
//   npx tsx examples/global.ts --help               every flag
import { fileURLToPath } from 'node:url';
import { run } from '../src/cli/main.ts';

const argv = process.argv.slice(2);
const self = fileURLToPath(import.meta.url);
await (argv[0] === 'status' ? run('status', argv.slice(1), { relaunch: [self, 'status'] }) : run('global', argv, { relaunch: [self] }));
