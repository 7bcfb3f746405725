// `sh scripts/node24.sh node bench/render.ts bench/results/<date>.json`:
// prints the performance tables of docs/performance.md (every stack of one
// bench run, Markdown) from a results file.
import { readFile } from 'node:fs/promises';
import { readResults, renderResults } from './report.ts';

const [path] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: node bench/render.ts bench/results/<date>.json\n');
  process.exit(2);
}
process.stdout.write(`${renderResults(readResults(JSON.parse(await readFile(path, 'utf8'))))}\n`);
