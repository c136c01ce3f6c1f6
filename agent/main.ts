// Entry point of the single binary: `agent daemon` runs the node, every other
// subcommand is a thin client of the local daemon. (No top-level await: the
// same entry is also bundled as CommonJS for the single executable.)
import { runCli } from './cli/index.js';

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
