// Runs the unit tests of the UI's pure logic (tests/unit/*.test.ts): each is
// bundled by esbuild into .unit-build/ and run by node's own test runner.
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", ".unit-build");
rmSync(outdir, { recursive: true, force: true });
const entryPoints = readdirSync(join(here, "unit"))
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => join(here, "unit", f));
await build({ entryPoints, outdir, bundle: true, platform: "node", format: "esm", outExtension: { ".js": ".mjs" }, logLevel: "warning" });
const files = readdirSync(outdir).map((f) => join(outdir, f));
const r = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
