'use strict';
// Runs one scenario of the GramJS client against a filedc server and prints its
// result as one line of JSON on stdout (logs go to stderr). The Go tests in
// internal/interop (gramjs_test.go) start the server, run this script and check
// the result.
//
//   node filedc.js files|album|photo FILE...
//
// Environment:
//   FILEDC_ADDR        host:port of the server's MTProto listener
//   FILEDC_DC          its DC id
//   FILEDC_PUBLIC_KEY  path of its RSA public key (PEM, PKCS#1)
//   FILEDC_BOT_TOKEN   bot token to log in with
//   FILEDC_PHONE       a test phone to sign in with instead (server runs --test-phones)
//   FILEDC_MEMBER      "id:access_hash" of the user the chats scenario adds
//   FILEDC_OUT         directory for downloaded thumbnails
//   FILEDC_TIMEOUT_MS  the whole run fails after this long (default 240000)

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const bigInt = require('big-integer');
const { TelegramClient, Api } = require('telegram');
const { MemorySession } = require('telegram/sessions');
const { CustomFile } = require('telegram/client/uploads');
const { ConnectionTCPFull } = require('telegram/network/connection');
const { Logger, LogLevel } = require('telegram/extensions/Logger');
const { LAYER } = require('telegram/tl/AllTLObjects');
const RSA = require('telegram/crypto/RSA');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// --- begin trust-key
// tlBytes serializes b as a TL "bytes" value.
function tlBytes(b) {
  const head = b.length < 254
    ? Buffer.from([b.length])
    : Buffer.from([254, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff]);
  const pad = (4 - ((head.length + b.length) % 4)) % 4;
  return Buffer.concat([head, b, Buffer.alloc(pad)]);
}

// trustServerKey adds the server's key to the keys GramJS accepts. The
// fingerprint is the low 64 bits of sha1(bytes(n) + bytes(e)), little-endian,
// signed, as a decimal string (how GramJS keys its map).
function trustServerKey(pemPath) {
  const jwk = crypto.createPublicKey(fs.readFileSync(pemPath)).export({ format: 'jwk' });
  const n = Buffer.from(jwk.n, 'base64url');
  const e = Buffer.from(jwk.e, 'base64url');
  const digest = crypto.createHash('sha1').update(Buffer.concat([tlBytes(n), tlBytes(e)])).digest();
  const fp = digest.readBigInt64LE(12).toString();
  RSA._serverKeys.set(fp, { n: bigInt(n.toString('hex'), 16), e: Number(bigInt(e.toString('hex'), 16)) });
  return fp;
}
// --- end trust-key

// StderrLogger keeps stdout for the JSON result.
class StderrLogger extends Logger {
  log(level, message) {
    process.stderr.write(`gramjs ${level}: ${message}\n`);
  }
}

function sha256(b) {
  return crypto.createHash('sha256').update(b).digest('hex');
}

// connect logs in as the bot. GramJS ignores the port of a DC (it dials 80,
// or 443 for DCs from help.getConfig), so every connection, the first and
// the file ones, is forced to the server's address.
async function connect() {
  // --- begin connect
  const [host, port] = env('FILEDC_ADDR').split(/:(?=\d+$)/);
  const dc = Number(env('FILEDC_DC'));
  trustServerKey(env('FILEDC_PUBLIC_KEY'));
  class LocalConnection extends ConnectionTCPFull {
    constructor(opts) {
      super({ ...opts, ip: host, port: Number(port) });
    }
  }
  const session = new MemorySession();
  session.setDC(dc, host, Number(port));
  const client = new TelegramClient(session, 1, 'filedc-interop', {
    connection: LocalConnection,
    connectionRetries: 2,
    retryDelay: 500,
    autoReconnect: false,
    baseLogger: new StderrLogger(process.env.FILEDC_GRAMJS_LOG || LogLevel.WARN),
  });
  const phone = process.env.FILEDC_PHONE;
  if (phone) {
    // A test phone 99966XYYYY signs in with the code X five times (S6).
    await client.start({
      phoneNumber: phone,
      phoneCode: async () => phone[5].repeat(5),
      firstAndLastNames: async () => ['GramJS', 'user'],
      onError: (err) => { throw err; },
    });
  } else {
    await client.start({ botAuthToken: env('FILEDC_BOT_TOKEN') });
  }
  // --- end connect
  return client;
}

function docInfo(doc) {
  const name = (doc.attributes || []).find((a) => a instanceof Api.DocumentAttributeFilename);
  return {
    doc_id: doc.id.toString(),
    size: Number(doc.size),
    mime_type: doc.mimeType,
    file_name: name ? name.fileName : '',
    dc_id: doc.dcId,
  };
}

function peerOf(m) {
  return m.peerId instanceof Api.PeerUser ? m.peerId.userId.toString() : String(m.peerId && m.peerId.className);
}

// readBack fetches the sent messages with getMessages and downloads each
// document.
async function readBack(client, sent) {
  const got = await client.getMessages('me', { ids: sent.map((m) => m.id) });
  const out = [];
  for (const m of got) {
    if (!m || !(m.media instanceof Api.MessageMediaDocument)) {
      throw new Error(`getMessages answered ${m && m.className} with media ${m && m.media && m.media.className}`);
    }
    const data = await client.downloadMedia(m, {});
    out.push({
      id: m.id,
      peer_user_id: peerOf(m),
      out: !!m.out,
      message: m.message,
      grouped_id: m.groupedId ? m.groupedId.toString() : '',
      ...docInfo(m.media.document),
      downloaded: data.length,
      sha256: sha256(data),
    });
  }
  return out;
}

// files: each file with 4 upload workers as a document to Saved Messages.
async function files(client, paths) {
  const sent = [];
  for (const p of paths) {
    const m = await client.sendFile('me', { file: p, forceDocument: true, workers: 4, caption: path.basename(p) });
    sent.push(m);
  }
  return { sent: sent.map((m) => m.id), messages: await readBack(client, sent) };
}

// album: the files as one album, a caption each.
async function album(client, paths) {
  const sent = await client.sendFile('me', {
    file: paths,
    forceDocument: true,
    caption: paths.map((p) => `album ${path.basename(p)}`),
  });
  // messages.getHistory lists the album newest first.
  const history = await client.getMessages('me', { limit: paths.length });
  return {
    sent: sent.map((m) => m.id),
    messages: await readBack(client, sent),
    history: history.map((m) => m.id),
  };
}

// photo: one photo; every size it carries is downloaded (the stripped one is
// expanded by GramJS) and written to FILEDC_OUT/thumb-TYPE.jpg. Then the same
// image as a document, with its thumbnails.
async function photo(client, paths) {
  const outDir = env('FILEDC_OUT');
  const sent = await client.sendFile('me', { file: paths[0], caption: 'a photo', workers: 4 });
  const [m] = await client.getMessages('me', { ids: [sent.id] });
  if (!m || !(m.media instanceof Api.MessageMediaPhoto) || !(m.media.photo instanceof Api.Photo)) {
    throw new Error(`getMessages answered ${m && m.className} with media ${m && m.media && m.media.className}`);
  }
  const p = m.media.photo;
  const sizes = [];
  for (const s of p.sizes) {
    const info = { class: s.className, type: s.type };
    if (s instanceof Api.PhotoSize) Object.assign(info, { w: s.w, h: s.h, size: s.size });
    if (s instanceof Api.PhotoStrippedSize) info.size = s.bytes.length;
    const data = await client.downloadMedia(m, { thumb: s.type });
    const file = path.join(outDir, `thumb-${s.type}.jpg`);
    fs.writeFileSync(file, data);
    Object.assign(info, { downloaded: data.length, sha256: sha256(data), file });
    sizes.push(info);
  }
  // Without a thumb GramJS downloads the largest size.
  const full = await client.downloadMedia(m, {});
  return {
    document: await imageDocument(client, paths[0], outDir),
    sent: [sent.id],
    id: m.id,
    peer_user_id: peerOf(m),
    message: m.message,
    photo_id: p.id.toString(),
    dc_id: p.dcId,
    sizes,
    full: { downloaded: full.length, sha256: sha256(full) },
  };
}

// imageDocument sends the image as a document and downloads it and every
// thumbnail the server made for it (written to FILEDC_OUT/doc-thumb-TYPE.jpg).
async function imageDocument(client, file, outDir) {
  const sent = await client.sendFile('me', { file, forceDocument: true, caption: 'as a document' });
  const [m] = await client.getMessages('me', { ids: [sent.id] });
  if (!m || !(m.media instanceof Api.MessageMediaDocument) || !(m.media.document instanceof Api.Document)) {
    throw new Error(`getMessages answered ${m && m.className} with media ${m && m.media && m.media.className}`);
  }
  const thumbs = [];
  for (const s of m.media.document.thumbs || []) {
    const info = { class: s.className, type: s.type };
    if (s instanceof Api.PhotoSize) Object.assign(info, { w: s.w, h: s.h, size: s.size });
    if (s instanceof Api.PhotoStrippedSize) info.size = s.bytes.length;
    const data = await client.downloadMedia(m, { thumb: s.type });
    const out = path.join(outDir, `doc-thumb-${s.type}.jpg`);
    fs.writeFileSync(out, data);
    Object.assign(info, { downloaded: data.length, sha256: sha256(data), file: out });
    thumbs.push(info);
  }
  const data = await client.downloadMedia(m, {});
  return {
    id: m.id,
    peer_user_id: peerOf(m),
    out: !!m.out,
    message: m.message,
    ...docInfo(m.media.document),
    thumbs,
    downloaded: data.length,
    sha256: sha256(data),
  };
}

// external: media sent by URL (inputMediaPhotoExternal and
// inputMediaDocumentExternal); the file holds the photo's URL and the
// document's, one a line. The photo's largest size and the document are
// downloaded.
async function external(client, paths) {
  const [photoURL, docURL] = fs.readFileSync(paths[0], 'utf8').trim().split('\n');
  const sent = await client.sendFile('me', { file: photoURL, caption: 'a photo by URL' });
  const [m] = await client.getMessages('me', { ids: [sent.id] });
  if (!m || !(m.media instanceof Api.MessageMediaPhoto) || !(m.media.photo instanceof Api.Photo)) {
    throw new Error(`getMessages answered ${m && m.className} with media ${m && m.media && m.media.className}`);
  }
  const sizes = m.media.photo.sizes
    .filter((s) => s instanceof Api.PhotoSize)
    .map((s) => ({ class: s.className, type: s.type, w: s.w, h: s.h, size: s.size }));
  const full = await client.downloadMedia(m, {});
  const doc = await client.sendFile('me', { file: docURL, forceDocument: true, caption: 'a document by URL' });
  return {
    sent: [sent.id, doc.id],
    id: m.id,
    message: m.message,
    photo_id: m.media.photo.id.toString(),
    dc_id: m.media.photo.dcId,
    sizes,
    full: { downloaded: full.length, sha256: sha256(full) },
    messages: await readBack(client, [doc]),
  };
}

// chats: as a user, a basic group and a megagroup with FILEDC_MEMBER in
// them; each gets the photo paths[0] (uploaded) and the document paths[1]
// (sent). Each photo is downloaded big by peer, as GramJS's
// downloadProfilePhoto does.
async function chats(client, paths) {
  const [memberID, memberHash] = env('FILEDC_MEMBER').split(':');
  const member = new Api.InputUser({ userId: bigInt(memberID), accessHash: bigInt(memberHash) });
  const out = {};
  const created = await client.invoke(new Api.messages.CreateChat({ users: [member], title: 'gramjs group' }));
  const group = created.updates.chats[0];
  const channelUpdates = await client.invoke(new Api.channels.CreateChannel({ megagroup: true, title: 'gramjs megagroup', about: '' }));
  const channel = channelUpdates.chats[0];
  await client.invoke(new Api.channels.InviteToChannel({ channel, users: [member] }));
  for (const [name, chat] of [['group', group], ['channel', channel]]) {
    const file = await client.uploadFile({ file: new CustomFile(path.basename(paths[0]), fs.statSync(paths[0]).size, paths[0]), workers: 2 });
    const photo = new Api.InputChatUploadedPhoto({ file });
    const edited = chat instanceof Api.Channel
      ? await client.invoke(new Api.channels.EditPhoto({ channel: chat, photo }))
      : await client.invoke(new Api.messages.EditChatPhoto({ chatId: chat.id, photo }));
    const current = edited.chats[0];
    const big = await client.downloadProfilePhoto(current, { isBig: true });
    const small = await client.downloadProfilePhoto(current, { isBig: false });
    const full = chat instanceof Api.Channel
      ? await client.invoke(new Api.channels.GetFullChannel({ channel: chat }))
      : await client.invoke(new Api.messages.GetFullChat({ chatId: chat.id }));
    const sent = await client.sendFile(current, { file: paths[1], forceDocument: true, caption: `to the ${name}` });
    out[name] = {
      id: chat.id.toString(),
      access_hash: chat.accessHash ? chat.accessHash.toString() : '',
      photo_id: current.photo.photoId.toString(),
      full_photo_id: full.fullChat.chatPhoto.id.toString(),
      big: { downloaded: big.length, sha256: sha256(big) },
      small: { downloaded: small.length, sha256: sha256(small) },
      sent: sent.id,
    };
  }
  return out;
}

const scenarios = { files, album, photo, external, chats };

async function main() {
  const [scenario, ...paths] = process.argv.slice(2);
  const run = scenarios[scenario];
  if (!run || paths.length === 0) {
    throw new Error(`usage: node filedc.js ${Object.keys(scenarios).join('|')} FILE...`);
  }
  const client = await connect();
  const me = await client.getMe();
  const result = await run(client, paths);
  await client.destroy();
  return { layer: LAYER, self: { id: me.id.toString(), bot: !!me.bot }, ...result };
}

const timeout = Number(process.env.FILEDC_TIMEOUT_MS || 240000);
const timer = setTimeout(() => {
  process.stdout.write(JSON.stringify({ error: `timed out after ${timeout} ms` }) + '\n');
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
    process.stdout.write(JSON.stringify({ error: String((err && err.stack) || err) }) + '\n');
    process.exit(1);
  },
);
