// postinstall: the fast path. With npm on Linux and macOS, the bin shims npm links (bin/codex,
// bin/codex-exec-server) are replaced by the native programs of the platform package, with a
// hard link and a rename (esbuild's approach), so `codex` starts without Node. Before that, each
// program must match the SHA-256 that release.json records for it and must run and name this
// version. Anything unexpected leaves the JS launcher in place, which works everywhere; this
// script never fails the install.
//
// Not for pnpm, yarn or bun (their shims run `node <file>`, which a native program would break),
// nor on Windows (npm's .cmd shims do the same).
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

function fastPath() {
  if (process.platform === "win32") return "not on Windows";
  const agent = process.env.npm_config_user_agent || "";
  if (!agent.startsWith("npm/")) return `installed by ${agent.split(" ")[0] || "an unknown client"}, not npm`;
  const launcher = require("./bin/codex.js");
  const rel = launcher.release();
  const plat = rel.platforms[`${process.platform}-${process.arch}`];
  if (!plat) return "no build for this platform";
  const staged = [];
  for (const name of ["codex", "codex-exec-server"]) {
    const found = launcher.fromPlatformPackage(rel, plat, name);
    if (!found.bin) return `${plat.package}: ${found.missing}`;
    const digest = crypto.createHash("sha256").update(fs.readFileSync(found.bin)).digest("hex");
    if (digest !== plat.files[name].entry_sha256) {
      return `${found.bin} does not match release.json (sha256 ${digest})`;
    }
    const out = require("child_process").spawnSync(found.bin, ["--version"], { encoding: "utf8", timeout: 10000 });
    if (out.status !== 0 || !String(out.stdout).includes(` ${rel.version} `)) {
      return `${found.bin} --version did not name ${rel.version}`;
    }
    staged.push({ name, bin: found.bin });
  }
  for (const { name, bin } of staged) {
    const shim = path.join(__dirname, "bin", name);
    const tmp = `${shim}.native-${process.pid}`;
    try {
      fs.linkSync(bin, tmp);
    } catch {
      fs.copyFileSync(bin, tmp);
      fs.chmodSync(tmp, 0o755);
    }
    fs.renameSync(tmp, shim);
  }
  return "";
}

// npm shows this only with --foreground-scripts (or in its log), so it is said only where the
// fast path was expected.
const expected = (process.env.npm_config_user_agent || "").startsWith("npm/") && process.platform !== "win32";
try {
  const skipped = fastPath();
  if (skipped && expected) process.stderr.write(`codex: keeping the JS launcher (${skipped})\n`);
} catch (e) {
  if (expected) process.stderr.write(`codex: keeping the JS launcher (${e.message})\n`);
}
