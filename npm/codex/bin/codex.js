#!/usr/bin/env node
// The codex npm launcher (Node >= 18). It finds the native program for this platform and runs it:
//
// 1. CODEX_BINARY_PATH, if set (codex-exec-server is taken from the same folder);
// 2. the platform package (@openai/codex-<os>-<cpu>), an optional dependency of this one;
// 3. otherwise (optional dependencies omitted, a lockfile made elsewhere, pnpm or yarn quirks) a
//    copy downloaded once from the release source, verified against the SHA-256 digests in
//    release.json, which the release build wrote into this package (lib/fallback.js).
//
// With npm on Linux and macOS, install.js replaces the bin shims with the native programs, so
// this file only runs when that fast path is not available. It is kept small: Node's startup is
// most of its cost.
"use strict";

const fs = require("fs");
const path = require("path");

// BEGIN GENERATED: npm-launcher
const PACKAGE = "@openai/codex";
const ENV_BINARY_PATH = "CODEX_BINARY_PATH";
const ENV_PACKAGE_ROOT = "CODEX_NPM_PACKAGE_ROOT";
const ENV_MANAGER = "CODEX_NPM_MANAGER";
const ENV_BASE_URL = "CODEX_RELEASE_BASE_URL";
const ENV_CODEX_HOME = "CODEX_HOME";
// END GENERATED: npm-launcher

/** The root of this package (the folder holding package.json and release.json). */
const ROOT = path.join(__dirname, "..");

/** What the release build wrote: version, tag, default release source, platforms and digests. */
function release() {
  return JSON.parse(fs.readFileSync(path.join(ROOT, "release.json"), "utf8"));
}

function exeName(name) {
  return process.platform === "win32" ? `${name}.exe` : name;
}

/** Prints one line and exits: every failure of the launcher ends here. */
function fail(message) {
  process.stderr.write(`codex: ${message}\n`);
  process.exit(1);
}

/** This platform's entry of release.json; fails with the list of supported ones. */
function platformOf(rel) {
  const key = `${process.platform}-${process.arch}`;
  const plat = rel.platforms[key];
  if (!plat) {
    fail(
      `no codex build for ${key}; builds exist for: ${Object.keys(rel.platforms).join(", ")}`,
    );
  }
  return plat;
}

/**
 * `name` in the installed platform package: `{ bin }`, or `{ missing }` saying why not.
 * A platform package of another version (a stale lockfile) counts as missing.
 */
function fromPlatformPackage(rel, plat, name) {
  // Where npm puts it (nested in a global install, else beside this package in its scope) are
  // looked at first; Node's resolution (pnpm's layout, workspaces) costs most of a millisecond.
  const scoped = plat.package.split("/");
  let manifest = [
    path.join(ROOT, "node_modules", ...scoped, "package.json"),
    path.join(ROOT, "..", scoped[scoped.length - 1], "package.json"),
  ].find((p) => fs.existsSync(p));
  if (!manifest) {
    try {
      manifest = require.resolve(`${plat.package}/package.json`, { paths: [ROOT] });
    } catch {
      return { missing: "it is not installed" };
    }
  }
  let version;
  try {
    version = JSON.parse(fs.readFileSync(manifest, "utf8")).version;
  } catch (e) {
    return { missing: `its package.json cannot be read (${e.message})` };
  }
  if (version !== rel.version) {
    return { missing: `version ${version} is installed, not ${rel.version}` };
  }
  const bin = path.join(path.dirname(manifest), "bin", exeName(name));
  return fs.existsSync(bin) ? { bin } : { missing: `it has no bin/${exeName(name)}` };
}

/** The program to run for `name` (`codex` or `codex-exec-server`): a path, or a promise of one. */
function resolveBinary(name) {
  const override = process.env[ENV_BINARY_PATH];
  if (override) {
    return name === "codex" ? override : path.join(path.dirname(override), exeName(name));
  }
  const rel = release();
  const plat = platformOf(rel);
  const found = fromPlatformPackage(rel, plat, name);
  if (found.bin) {
    return found.bin;
  }
  return require("../lib/fallback.js").ensure({
    rel,
    plat,
    name,
    why: found.missing,
    fail,
    env: { baseUrl: ENV_BASE_URL, codexHome: ENV_CODEX_HOME },
    packageName: PACKAGE,
  });
}

/** Which package manager installed this copy, from where it lies. */
function managerOf(root) {
  const p = root.split(path.sep).join("/");
  if (p.includes("/.pnpm/") || p.includes("/pnpm/")) return "pnpm";
  if (p.includes("/.bun/")) return "bun";
  return "npm";
}

/** Runs `bin` with `args`, as if it had been started directly. */
function exec(bin, args) {
  const env = { ...process.env, [ENV_PACKAGE_ROOT]: ROOT, [ENV_MANAGER]: managerOf(ROOT) };
  if (typeof process.execve === "function" && process.platform !== "win32") {
    // Node >= 22.15: become the program (same pid, signals and exit status for free).
    process.execve(bin, [bin, ...args], env);
  }
  const { spawn } = require("child_process");
  const child = spawn(bin, args, { stdio: "inherit", env });
  const forward = (signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already gone: its exit is handled below.
    }
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.on(signal, forward);
  child.on("error", (e) => fail(`cannot run ${bin}: ${e.message}`));
  child.on("exit", (code, signal) => {
    for (const s of signals) process.removeListener(s, forward);
    if (signal) {
      const number = require("os").constants.signals[signal] || 0;
      process.exit(128 + number);
    }
    process.exit(code === null ? 1 : code);
  });
}

/** Runs the program `name` with `args`. */
function run(name, args) {
  const bin = resolveBinary(name);
  if (typeof bin === "string") {
    exec(bin, args);
  } else {
    bin.then((b) => exec(b, args), (e) => fail(e.message));
  }
}

module.exports = { run, resolveBinary, release, platformOf, fromPlatformPackage, exeName, ROOT };

if (require.main === module) {
  run("codex", process.argv.slice(2));
}
