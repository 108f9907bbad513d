// Runs one scenario of the mtcute client (@mtcute/node) against a filedc
// server and prints its result as one line of JSON on stdout (mtcute's logs
// go to stderr). The Go tests in internal/interop (mtcute_test.go) start the
// server, run this script and check the result.
//
//   node filedc.mjs login
//   node filedc.mjs files|album|photo|hashes FILE...
//
// Environment:
//   FILEDC_ADDR        host:port of the server's MTProto listener
//   FILEDC_DC          its DC id
//   FILEDC_PUBLIC_KEY  path of its RSA public key (PEM, PKCS#1)
//   FILEDC_BOT_TOKEN   bot token to log in with
//   FILEDC_OUT         directory for downloaded photo sizes
//   MTCUTE_LOG_LEVEL   mtcute's own: its log level (0 off ... 5 verbose, default 2)
//   FILEDC_TIMEOUT_MS  the whole run fails after this long (default 240000)

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { format } from 'node:util';
import { InputMedia, MemoryStorage, MtClient, TelegramClient } from '@mtcute/node';
import { NodeCryptoProvider, parsePublicKey } from '@mtcute/node/utils.js';

// calls counts the API methods mtcute calls, by name, and rpcErrors the
// RPC errors it gets, by "method: ERROR". unknownObjects lists the
// constructors of what the server sent that mtcute could not decode (it logs
// them, resets its session and sends its calls again), with the phase:
// "start" until tg.start returns, then "run".
const calls = {};
const rpcErrors = {};
const unknownObjects = [];
let phase = 'start';

// mtcute logs with console.log; stdout is kept for the result.
console.log = (...args) => {
  const line = format(...args);
  const m = /received unknown object ([0-9a-f]+)/.exec(line);
  if (m) unknownObjects.push({ id: m[1].padStart(8, '0'), phase });
  process.stderr.write(line + '\n');
};

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function sha256(b) {
  return createHash('sha256').update(b).digest('hex');
}

// connect logs in as the bot.
async function connect() {
  const [host, portText] = env('FILEDC_ADDR').split(/:(?=\d+$)/);
  const port = Number(portText);
  const dcId = Number(env('FILEDC_DC'));
  const pemPath = env('FILEDC_PUBLIC_KEY');
  const botToken = env('FILEDC_BOT_TOKEN');
  // --- begin connect
  // filedc writes its key on first start: DATA/public.pem (PKCS#1).
  const crypto = new NodeCryptoProvider();
  const key = parsePublicKey(crypto, readFileSync(pemPath, 'utf8'));
  // mtcute 0.30 looks fingerprints up as hex without leading zeros, but
  // addPublicKey files them with: add the key under both spellings.
  const rsaKeys = new URL('tl/binary/rsa-keys.js', import.meta.resolve('@mtcute/core'));
  const { __publicKeyIndex: keys } = await import(rsaKeys);
  keys[key.fingerprint] = keys[BigInt(`0x${key.fingerprint}`).toString(16)] = key;
  const dc = { id: dcId, ipAddress: host, port };
  const tg = new TelegramClient({
    apiId: 1,
    apiHash: 'any-api-hash',
    crypto,
    storage: new MemoryStorage(), // from @mtcute/core: no native sqlite needed
    defaultDcs: { main: dc, media: dc },
  });
  const self = await tg.start({ botToken });
// --- end connect
  return { tg, self };
}

// Every API method mtcute calls, from the first, is counted and so is every
// RPC error it gets.
const mtCall = MtClient.prototype.call;
MtClient.prototype.call = async function call(message, params) {
  calls[message._] = (calls[message._] ?? 0) + 1;
  const res = await mtCall.call(this, message, params);
  if (res && res._ === 'mt_rpc_error') {
    const key = `${message._}: ${res.errorMessage}`;
    rpcErrors[key] = (rpcErrors[key] ?? 0) + 1;
  }
  return res;
};

function docInfo(doc) {
  return {
    doc_id: doc.raw.id.toString(),
    size: Number(doc.raw.size),
    mime_type: doc.mimeType,
    file_name: doc.fileName ?? '',
    dc_id: doc.raw.dcId,
  };
}

function messageInfo(m) {
  return {
    id: m.id,
    peer_user_id: m.raw.peerId._ === 'peerUser' ? String(m.raw.peerId.userId) : m.raw.peerId._,
    out: m.isOutgoing,
    message: m.text,
    grouped_id: m.groupedId ? m.groupedId.toString() : '',
  };
}

// readBack fetches the sent messages with getMessages and downloads each
// document.
async function readBack(tg, sent) {
  const got = await tg.getMessages('me', sent.map((m) => m.id));
  const out = [];
  for (const m of got) {
    if (!m || !m.media || m.media.type !== 'document') {
      throw new Error(`getMessages answered ${m && m.id} with media ${m && m.media && m.media.type}`);
    }
    const data = await tg.downloadAsBuffer(m.media);
    out.push({ ...messageInfo(m), ...docInfo(m.media), downloaded: data.length, sha256: sha256(data) });
  }
  return out;
}

function documentMedia(p, caption) {
  return InputMedia.document(readFileSync(p), { fileName: basename(p), caption });
}

// files: each file as a document to Saved Messages.
async function files(tg, paths) {
  const sent = [];
  for (const p of paths) {
    sent.push(await tg.sendMedia('me', documentMedia(p, basename(p))));
  }
  return { sent: sent.map((m) => m.id), messages: await readBack(tg, sent) };
}

// album: the files as one album (sendMediaGroup), a caption each.
async function album(tg, paths) {
  const sent = await tg.sendMediaGroup('me', paths.map((p) => documentMedia(p, `album ${basename(p)}`)));
  // messages.getHistory lists the album newest first.
  const history = await tg.getHistory('me', { limit: paths.length });
  return {
    sent: sent.map((m) => m.id),
    messages: await readBack(tg, sent),
    history: history.map((m) => m.id),
  };
}

// sizeInfo downloads one photo size (a stripped one is expanded by mtcute)
// and writes it to FILEDC_OUT/PREFIX-TYPE.jpg.
async function sizeInfo(tg, t, prefix) {
  const info = { class: t.raw._ === 'photoStrippedSize' ? 'PhotoStrippedSize' : t.raw._ === 'photoSize' ? 'PhotoSize' : t.raw._, type: t.type };
  if (t.raw._ === 'photoSize') Object.assign(info, { w: t.raw.w, h: t.raw.h, size: t.raw.size });
  if (t.raw._ === 'photoStrippedSize') info.size = t.raw.bytes.length;
  const data = await tg.downloadAsBuffer(t);
  const file = join(env('FILEDC_OUT'), `${prefix}-${t.type}.jpg`);
  writeFileSync(file, data);
  return Object.assign(info, { downloaded: data.length, sha256: sha256(data), file });
}

// photo: one photo; every size it carries is downloaded. Then the same image
// as a document, with its thumbnails.
async function photo(tg, paths) {
  const sent = await tg.sendMedia('me', InputMedia.photo(readFileSync(paths[0]), { caption: 'a photo' }));
  const [m] = await tg.getMessages('me', [sent.id]);
  if (!m || !m.media || m.media.type !== 'photo') {
    throw new Error(`getMessages answered ${m && m.id} with media ${m && m.media && m.media.type}`);
  }
  const p = m.media;
  const sizes = [];
  for (const t of p.thumbnails) sizes.push(await sizeInfo(tg, t, 'thumb'));
  // The photo itself downloads as its largest size.
  const full = await tg.downloadAsBuffer(p);

  const dsent = await tg.sendMedia('me', documentMedia(paths[0], 'as a document'));
  const [d] = await tg.getMessages('me', [dsent.id]);
  if (!d || !d.media || d.media.type !== 'document') {
    throw new Error(`getMessages answered ${d && d.id} with media ${d && d.media && d.media.type}`);
  }
  const thumbs = [];
  for (const t of d.media.thumbnails) thumbs.push(await sizeInfo(tg, t, 'doc-thumb'));
  const ddata = await tg.downloadAsBuffer(d.media);
  return {
    sent: [sent.id],
    ...messageInfo(m),
    photo_id: p.raw.id.toString(),
    dc_id: p.raw.dcId,
    width: p.width,
    height: p.height,
    sizes,
    full: { downloaded: full.length, sha256: sha256(full) },
    document: { ...messageInfo(d), ...docInfo(d.media), thumbs, downloaded: ddata.length, sha256: sha256(ddata) },
  };
}

// fileHashes reads a document's range hashes with upload.getFileHashes, a
// raw call, from offset on: from 0, until the file is covered. Each range
// is reported with its SHA-256 as hex.
async function fileHashes(tg, location, offset, size) {
  const out = [];
  for (;;) {
    const got = await tg.call({ _: 'upload.getFileHashes', location, offset });
    for (const h of got) {
      out.push({ class: h._, offset: Number(h.offset), limit: h.limit, hash: Buffer.from(h.hash).toString('hex') });
    }
    if (size === undefined) return out;
    if (got.length === 0) throw new Error(`upload.getFileHashes at ${offset} answered no hashes`);
    const last = out[out.length - 1];
    offset = last.offset + last.limit;
    if (offset >= size) return out;
  }
}

// hashes: the file as a document, then its range hashes from offset 0 to
// the end and one answer from inside range 3.
async function hashes(tg, paths) {
  const m = await tg.sendMedia('me', documentMedia(paths[0], basename(paths[0])));
  const doc = m.media;
  const before = calls['upload.getFileHashes'] ?? 0;
  const all = await fileHashes(tg, doc.location, 0, Number(doc.raw.size));
  return {
    ...messageInfo(m),
    ...docInfo(doc),
    hashes: all,
    hash_calls: (calls['upload.getFileHashes'] ?? 0) - before,
    inner: await fileHashes(tg, doc.location, 3 * 131072 + 5),
  };
}

// login: nothing but the login and getMe.
async function login() {
  return {};
}

const scenarios = { login, files, album, photo, hashes };

async function main() {
  const [scenario, ...paths] = process.argv.slice(2);
  const run = scenarios[scenario];
  if (!run || (paths.length === 0) !== (run === login)) {
    throw new Error(`usage: node filedc.mjs ${Object.keys(scenarios).join('|')} FILE...`);
  }
  const { tg, self } = await connect();
  phase = 'run';
  const me = await tg.getMe();
  const result = await run(tg, paths);
  await tg.destroy();
  return {
    // The layer of mtcute's schema, and the one it declares in invokeWithLayer.
    layer: createRequire(import.meta.url)('@mtcute/core/tl/api-schema.json').l,
    declared_layer: tg._client.mt._layer,
    self: { id: String(self.id), bot: self.isBot },
    me: { id: String(me.id), bot: me.isBot, username: me.username ?? '' },
    calls,
    rpc_errors: rpcErrors,
    unknown_objects: unknownObjects,
    ...result,
  };
}

const timeout = Number(process.env.FILEDC_TIMEOUT_MS || 240000);
const timer = setTimeout(() => {
  process.stdout.write(JSON.stringify({ error: `timed out after ${timeout} ms`, calls, rpc_errors: rpcErrors, unknown_objects: unknownObjects }) + '\n');
  process.exit(3);
}, timeout);

main().then(
  (result) => {
    clearTimeout(timer);
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  },
  (err) => {
    clearTimeout(timer);
    process.stdout.write(JSON.stringify({ error: String((err && err.stack) || err), calls, rpc_errors: rpcErrors, unknown_objects: unknownObjects }) + '\n');
    process.exit(1);
  },
);
