// When the platform package is missing: download the release's manifest.json and its signature
// (manifest.json.sig), verify the signature against TRUSTED_KEYS, then download this platform's
// release archive once, verify it against the SHA-256 digests of the signed manifest (which must
// agree with those the release build embedded in release.json), extract its single entry
// (verified too), and cache it under $CODEX_HOME/packages/npm/<version>-<triple>/. The cached copy
// is checked against release.json's size and digest again before every run.
//
// The rules are those of the Rust installer (crates/installer): HTTPS unless the mirror was named
// explicitly or is on loopback, never an https -> http redirect, never more bytes than the signed
// size (or the cap, for the manifest and its signature), nothing is run or cached before it is
// verified, an unsigned release or one signed by no trusted key is refused, and an archive must
// hold exactly one regular file with the expected name.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");

const MAX_REDIRECTS = 10;

// BEGIN GENERATED: limits (cargo xtask generate, from crates/installer)
const MAX_MANIFEST_SIZE = 1048576;
const MAX_SIGNATURE_SIZE = 16384;
// END GENERATED: limits

// BEGIN GENERATED: trusted-keys (cargo xtask generate, from crates/installer/src/signature.rs)
const TRUSTED_KEYS = [
  { id: "codex-release-1", spki: "MCowBQYDK2VwAyEAGQDfW+ejGsQd6lKu5JQgUGRgA1zrEkfDL0zI3UAFJXc=" },
];
// END GENERATED: trusted-keys

function sha256(bytes) {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

function isLoopback(url) {
  return ["127.0.0.1", "localhost", "[::1]", "::1"].includes(url.hostname) ||
    url.hostname.startsWith("127.");
}

/**
 * GET `url` into memory, following redirects; rejects with a one-line reason. A body longer than
 * `limit` bytes, announced or sent, is refused as soon as that is known (`what` says what the
 * limit is, for the message).
 */
function download(url, explicit, limit, what = "", redirects = 0) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol === "http:" && !explicit && !isLoopback(u)) {
      reject(new Error(`refusing plain http for ${url}; use https, or name the mirror in the environment`));
      return;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      reject(new Error(`${url} is not an http(s) URL`));
      return;
    }
    const tooLarge = () => new Error(`${url} is larger than ${limit} bytes${what}, so the download was stopped and discarded; the release source is broken or hostile`);
    const lib = require(u.protocol === "https:" ? "https" : "http");
    const req = lib.get(u, { headers: { "user-agent": "codex-npm-launcher" }, timeout: 30000 }, (res) => {
      const status = res.statusCode || 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new Error(`too many redirects fetching ${url}`));
          return;
        }
        const next = new URL(res.headers.location, u);
        if (u.protocol === "https:" && next.protocol !== "https:") {
          reject(new Error(`refusing a redirect from https to ${next.protocol} (${next})`));
          return;
        }
        resolve(download(next.toString(), explicit, limit, what, redirects + 1));
        return;
      }
      if (status !== 200) {
        res.resume();
        const e = new Error(`HTTP ${status} for ${url}`);
        e.status = status;
        reject(e);
        return;
      }
      const expected = Number(res.headers["content-length"]);
      if (Number.isFinite(expected) && expected > limit) {
        req.destroy();
        reject(tooLarge());
        return;
      }
      const chunks = [];
      let got = 0;
      res.on("data", (c) => {
        got += c.length;
        if (got > limit) {
          req.destroy();
          reject(tooLarge());
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        if (Number.isFinite(expected) && expected !== body.length) {
          reject(new Error(`the download of ${url} broke off after ${body.length} of ${expected} bytes`));
        } else {
          resolve(body);
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${u.host} in 30 s`)));
    req.on("error", reject);
  });
}

/** The one regular file of a .tar.gz; anything else (links, paths, a second entry) is refused. */
function tarEntry(archive, expected) {
  const tar = zlib.gunzipSync(archive);
  const files = [];
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) => header.subarray(start, start + len).toString("latin1").replace(/\0.*$/s, "");
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1) || "0";
    if (!Number.isFinite(size) || size < 0) throw new Error("the archive is corrupt (bad entry size)");
    const start = off + 512;
    files.push({ name, type, data: tar.subarray(start, start + size) });
    off = start + Math.ceil(size / 512) * 512;
  }
  return single(files, expected);
}

/** The one regular file of a .zip (stored or deflated). */
function zipEntry(archive, expected) {
  let eocd = -1;
  for (let i = archive.length - 22; i >= Math.max(0, archive.length - 65557); i--) {
    if (archive.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("the archive is corrupt (no zip directory)");
  const count = archive.readUInt16LE(eocd + 10);
  let cd = archive.readUInt32LE(eocd + 16);
  const files = [];
  for (let i = 0; i < count; i++) {
    if (archive.readUInt32LE(cd) !== 0x02014b50) throw new Error("the archive is corrupt (bad zip entry)");
    const method = archive.readUInt16LE(cd + 10);
    const compressed = archive.readUInt32LE(cd + 20);
    const nameLen = archive.readUInt16LE(cd + 28);
    const extraLen = archive.readUInt16LE(cd + 30);
    const commentLen = archive.readUInt16LE(cd + 32);
    const attrs = archive.readUInt32LE(cd + 38);
    const local = archive.readUInt32LE(cd + 42);
    const name = archive.subarray(cd + 46, cd + 46 + nameLen).toString("utf8");
    const dataStart = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const raw = archive.subarray(dataStart, dataStart + compressed);
    const unixMode = attrs >>> 16;
    const isLink = (unixMode & 0o170000) === 0o120000;
    const type = name.endsWith("/") ? "5" : isLink ? "2" : "0";
    let data = raw;
    if (type === "0") {
      if (method === 8) data = zlib.inflateRawSync(raw);
      else if (method !== 0) throw new Error(`the archive uses zip method ${method}, which codex releases never use`);
    }
    files.push({ name, type, data });
    cd += 46 + nameLen + extraLen + commentLen;
  }
  return single(files, expected);
}

function single(files, expected) {
  if (files.length !== 1) {
    throw new Error(`the archive must hold exactly one entry named ${expected}, found ${files.length}: ${files.map((f) => f.name).join(", ")}`);
  }
  const [f] = files;
  if (f.name !== expected) throw new Error(`the archive must hold ${expected}, found ${f.name}`);
  if (f.type !== "0") throw new Error(`${expected} in the archive is not a regular file; refusing it`);
  return f.data;
}

/** `$CODEX_HOME/packages/npm` (CODEX_HOME defaults to ~/.codex). */
function cacheRoot(env) {
  const home = process.env[env.codexHome] || path.join(os.homedir(), ".codex");
  return path.join(home, "packages", "npm");
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The key of `keys` whose Ed25519 signature `sigText` (a `.sig` file: base64 of 64 bytes on one
 * line) is over `data`, or null. Throws when the file is not such a signature (`malformed`) or a
 * trusted key is unusable (`badKey`).
 */
function verifySignature(data, sigText, keys) {
  const text = sigText.replace(/\r?\n$/, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw Object.assign(new Error("not one line of base64"), { malformed: true });
  }
  const sig = Buffer.from(text, "base64");
  if (sig.length !== 64) {
    throw Object.assign(new Error(`${sig.length} bytes instead of 64`), { malformed: true });
  }
  for (const key of keys) {
    let publicKey;
    try {
      publicKey = crypto.createPublicKey({ key: Buffer.from(key.spki, "base64"), format: "der", type: "spki" });
    } catch (e) {
      throw Object.assign(new Error(`trusted key ${key.id} is not a valid Ed25519 public key (${e.message})`), { badKey: true });
    }
    if (crypto.verify(null, data, publicKey, sig)) return key;
  }
  return null;
}

/**
 * The release's manifest.json, downloaded with its signature and verified against TRUSTED_KEYS.
 * Returns `{ manifest, key }`; on any failure calls `fail` with one line that says what to do.
 */
async function signedManifest({ base, explicit, rel, plat, why, fail, fix, packageName }) {
  const url = `${base}/download/${rel.tag}/manifest.json`;
  const sigUrl = `${url}.sig`;
  let bytes;
  try {
    bytes = await download(url, explicit, MAX_MANIFEST_SIZE);
  } catch (e) {
    fail(`${plat.package} is missing (${why}) and manifest.json could not be downloaded: ${e.message}; ${fix}`);
  }
  let sigText;
  try {
    sigText = (await download(sigUrl, explicit, MAX_SIGNATURE_SIZE)).toString("utf8");
  } catch (e) {
    if (e.status === 404) {
      fail(`release ${rel.tag} from ${base} is not signed (${sigUrl} answered 404); refusing it, since codex installs only signed releases, and nothing was run; ${fix}`);
    }
    fail(`${plat.package} is missing (${why}) and manifest.json.sig could not be downloaded: ${e.message}; ${fix}`);
  }
  let key;
  try {
    key = verifySignature(bytes, sigText, TRUSTED_KEYS);
  } catch (e) {
    if (e.badKey) fail(`${e.message}; this copy of ${packageName} is broken, reinstall it`);
    fail(`the signature of manifest.json (${sigUrl}) is malformed (${e.message}); nothing was run; download the release again (or ${fix}), and report it if that keeps happening`);
  }
  if (!key) {
    const trusted = TRUSTED_KEYS.map((k) => k.id).join(", ");
    fail(`manifest.json of release ${rel.tag} from ${base} was not signed by any trusted key (trusted: ${trusted}); the download may have been tampered with, so nothing was run; ${fix}`);
  }
  let manifest;
  try {
    manifest = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    fail(`the signed manifest.json of release ${rel.tag} cannot be read (${e.message}); nothing was run; ${fix}`);
  }
  if (!manifest || manifest.version !== rel.version) {
    fail(`the signed manifest.json at ${url} is for version ${manifest && manifest.version}, not ${rel.version}; the release source is inconsistent, so nothing was run; ${fix}`);
  }
  return { manifest, key };
}

/**
 * What the signed manifest says about `name` for `plat`:
 * `{ archive, size, sha256, entry, entry_size, entry_sha256 }`.
 * Refuses (through `fail`) a manifest without exactly one such artifact, and a release.json that
 * disagrees with it.
 */
function signedFile({ manifest, name, plat, file, rel, fail, fix, packageName }) {
  const found = (Array.isArray(manifest.artifacts) ? manifest.artifacts : []).filter(
    (a) => a && a.binary === name && a.target === plat.triple,
  );
  const a = found.length === 1 ? found[0] : null;
  const signed = a && {
    archive: a.archive && a.archive.name,
    size: a.archive && a.archive.size,
    sha256: a.archive && a.archive.sha256,
    entry: a.entry && a.entry.name,
    entry_size: a.entry && a.entry.size,
    entry_sha256: a.entry && a.entry.sha256,
  };
  if (!signed || typeof signed.archive !== "string" || typeof signed.entry !== "string" ||
      !Number.isSafeInteger(signed.size) || !Number.isSafeInteger(signed.entry_size) ||
      !SHA256_HEX.test(signed.sha256) || !SHA256_HEX.test(signed.entry_sha256)) {
    fail(`the signed manifest.json of release ${rel.tag} does not describe ${name} for ${plat.triple} (with its archive, entry and SHA-256 digests); nothing was run; ${fix}`);
  }
  for (const field of ["archive", "size", "sha256", "entry", "entry_size", "entry_sha256"]) {
    if (file[field] !== signed[field]) {
      fail(`release.json of ${packageName} ${rel.version} disagrees with the signed manifest.json about ${name} for ${plat.triple} (${field}: ${file[field]} vs ${signed[field]}); nothing was run; reinstall ${packageName}`);
    }
  }
  return signed;
}

/**
 * How the cached program at `dest` differs from what release.json lists (`entry_size`,
 * `entry_sha256`): null when it is the same, "missing" when there is none, else a few words.
 */
function cachedChange(dest, listed) {
  let stat;
  try {
    stat = fs.lstatSync(dest);
  } catch {
    return "missing";
  }
  if (!stat.isFile()) return "is not a regular file";
  if (stat.size !== listed.entry_size) {
    return `is ${stat.size} bytes where release.json says ${listed.entry_size}`;
  }
  let bytes;
  try {
    bytes = fs.readFileSync(dest);
  } catch (e) {
    return `cannot be read (${e.message})`;
  }
  const got = sha256(bytes);
  return got === listed.entry_sha256 ? null : `has sha256 ${got} where release.json says ${listed.entry_sha256}`;
}

/**
 * The cached program for `name`, downloading and verifying it first if needed. Returns a
 * promise of its path; on any failure calls `fail` with one line that says what to do.
 */
async function ensure({ rel, plat, name, why, fail, env, packageName }) {
  const exe = process.platform === "win32" ? `${name}.exe` : name;
  const dir = path.join(cacheRoot(env), `${rel.version}-${plat.triple}`);
  const dest = path.join(dir, exe);
  const listed = plat.files[name];
  if (!listed) fail(`release.json names no ${name} for ${plat.triple}; reinstall ${packageName}`);
  // The cached copy is what was verified only if it still has release.json's size and digest:
  // anything that changed it since is discarded, never run.
  const changed = cachedChange(dest, listed);
  if (changed === null) return dest;
  if (changed !== "missing") {
    process.stderr.write(`codex: the cached ${dest} ${changed}, so it was discarded and is downloaded again\n`);
    try {
      fs.rmSync(dest, { force: true });
    } catch (e) {
      fail(`cannot remove the changed ${dest}: ${e.message}; remove it and run again; nothing was run`);
    }
  }

  const named = process.env[env.baseUrl];
  const base = (named || rel.base_url).replace(/\/+$/, "");
  const explicit = Boolean(named);
  const fix = `reinstall with optional dependencies (npm install -g ${packageName} --include=optional), or set ${env.baseUrl} to a codex release mirror you can reach`;

  // Before any digest is trusted: the manifest that holds them must be signed by a trusted key.
  const { manifest, key } = await signedManifest({ base, explicit, rel, plat, why, fail, fix, packageName });
  const file = signedFile({ manifest, name, plat, file: listed, rel, fail, fix, packageName });

  const url = `${base}/download/${rel.tag}/${file.archive}`;
  let archive;
  try {
    archive = await download(url, explicit, file.size, " (its size in the signed manifest)");
  } catch (e) {
    fail(`${plat.package} is missing (${why}) and ${file.archive} could not be downloaded: ${e.message}; ${fix}`);
  }
  const got = sha256(archive);
  if (archive.length !== file.size || got !== file.sha256) {
    fail(`checksum mismatch for ${file.archive} from ${url}: the signed manifest says sha256 ${file.sha256}, got ${got}; the download was discarded and nothing was run`);
  }
  let contents;
  try {
    contents = file.archive.endsWith(".zip") ? zipEntry(archive, file.entry) : tarEntry(archive, file.entry);
  } catch (e) {
    fail(`${file.archive}: ${e.message}; nothing was run`);
  }
  const entryDigest = sha256(contents);
  if (entryDigest !== file.entry_sha256) {
    fail(`checksum mismatch for ${file.entry} inside ${file.archive}: the signed manifest says sha256 ${file.entry_sha256}, got ${entryDigest}; nothing was run`);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${dest}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, contents, { mode: 0o755 });
    fs.renameSync(tmp, dest);
  } catch (e) {
    fail(`cannot cache ${exe} in ${dir}: ${e.message}; set ${env.codexHome} to a folder you can write to`);
  }
  // Said once: later runs find the cached copy and stay quiet.
  process.stderr.write(
    `codex: ${plat.package} is missing (${why}), so the signature of release ${rel.tag}'s manifest.json ` +
      `was verified (key ${key.id}), ${file.archive} was downloaded from ${url} and its SHA-256 checked ` +
      `against the signed manifest, and ${exe} cached in ${dir}; reinstall with optional dependencies ` +
      `(npm install -g ${packageName} --include=optional) to skip this\n`,
  );
  return dest;
}

module.exports = { ensure, tarEntry, zipEntry, verifySignature };
