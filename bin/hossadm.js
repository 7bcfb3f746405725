#!/usr/bin/env node
// Installed entry point. The compiled CLI needs Node 22.15 or later (zlib's
// zstd); an older Node must stop here, before any of it is loaded, with one
// line and exit code 3 (configuration), never a stack trace halfway through a
// run. Hence only syntax Node 14 parses, and the CLI is loaded by a dynamic
// import after the check.
const NEEDED = [22, 15];
const [major, minor] = process.versions.node.split('.').map(Number);
if (!(major > NEEDED[0] || (major === NEEDED[0] && minor >= NEEDED[1]))) {
  process.stderr.write(
    `hossadm: Node.js ${process.versions.node} (${process.execPath}) is too old; hossadm needs Node.js ${NEEDED.join('.')} or later ` +
      '(fix: install Node 24, e.g. "npm install -g node@24" or from nodejs.org, and put it first on PATH)\n',
  );
  process.exit(3);
}
import('../dist/cli/main.js').catch((error) => {
  const why = error?.message ? error.message.split('\n')[0] : String(error);
  process.stderr.write(`hossadm: cannot load the compiled CLI (${why}) (fix: run "npm run build" in a checkout, or reinstall the package)\n`);
  process.exit(1);
});
