// The work half of mermaid-validate: node mermaid_validate.mjs ORACLE-DIR [--png OUT-DIR] FILE.mmd...
//
// Renders each Mermaid file with the mermaid package in a headless Chromium,
// as GitHub's and GitLab's viewers do, all in one browser. It does what
// Mermaid's CLI (@mermaid-js/mermaid-cli's renderMermaid) does — its page,
// the mermaid IIFE, mermaid.initialize, then mermaid.render, which throws on
// a diagram it cannot parse or draw — but loads the page and the library
// once for all diagrams instead of once per diagram (seconds each). A file
// passes when it renders to an SVG without Mermaid's error diagram. Prints
// `FAIL<TAB>FILE<TAB>ERROR` per failure, then `mermaid-validate: N ok, M failed`.
// Exits 1 if any failed, 2 if the browser could not start.
// With --png OUT-DIR, also writes OUT-DIR/<name>.png through the CLI's own
// renderMermaid (twice the pixels, for docs).
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const dir = args.shift();
let pngDir = null;
if (args[0] === '--png') {
  args.shift();
  pngDir = args.shift();
}
if (!dir || args.length === 0) {
  console.error('usage: node mermaid_validate.mjs ORACLE-DIR [--png OUT-DIR] FILE.mmd...');
  process.exit(2);
}
const modules = join(dir, 'mermaid', 'node_modules');
const load = (p) => import(pathToFileURL(join(modules, p)).href);

let browser;
try {
  const puppeteer = (await load('puppeteer/lib/esm/puppeteer/puppeteer.js')).default;
  const { renderMermaid } = await load('@mermaid-js/mermaid-cli/src/index.js');
  browser = await puppeteer.launch({
    headless: 'shell',
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  // The CLI's page with the mermaid library, loaded once.
  const page = await browser.newPage();
  const cli = join(modules, '@mermaid-js', 'mermaid-cli');
  await page.goto(pathToFileURL(join(cli, 'dist', 'index.html')).href);
  await page.addScriptTag({ path: join(modules, 'mermaid', 'dist', 'mermaid.js') });
  await page.evaluate(() => globalThis.mermaid.initialize({ startOnLoad: false }));
  let ok = 0;
  let failed = 0;
  for (const [i, file] of args.entries()) {
    const text = await readFile(file, 'utf8');
    try {
      const svg = await page.evaluate(async (definition, id) => {
        const { svg } = await globalThis.mermaid.render(id, definition);
        return svg;
      }, text, `d${i}`);
      if (!svg.includes('<svg') || /Syntax error in text|class="error-icon"/.test(svg)) {
        throw new Error('Mermaid drew its error diagram');
      }
      if (pngDir) {
        const png = await renderMermaid(browser, text, 'png', {
          viewport: { width: 800, height: 600, deviceScaleFactor: 2 },
        });
        await writeFile(join(pngDir, basename(file).replace(/\.[^.]*$/, '') + '.png'), png.data);
      }
      ok++;
    } catch (e) {
      failed++;
      const msg = String(e && e.message ? e.message : e).split('\n').slice(0, 4).join(' | ');
      console.log(`FAIL\t${file}\t${msg}`);
    }
  }
  console.log(`mermaid-validate: ${ok} ok, ${failed} failed`);
  await browser.close();
  process.exit(failed > 0 ? 1 : 0);
} catch (e) {
  console.error(`mermaid-validate: could not run Mermaid in ${process.env.CHROMIUM || '/usr/bin/chromium'}: ${e && e.stack ? e.stack : e}`);
  if (browser) await browser.close().catch(() => {});
  process.exit(2);
}
