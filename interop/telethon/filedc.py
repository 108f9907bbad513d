#!/usr/bin/env python3
"""Runs one scenario of Telethon (Debian python3-telethon 1.25.1, layer 144)
against a filedc server and prints its result as one line of JSON on stdout
(Telethon's logs and any traceback go to stderr). The Go tests in
internal/interop (telethon_test.go) start the server, run this script and
check the result.

    python3 filedc.py login|files|photo|video|hashes|album|migrate FILE...

Environment:
    FILEDC_ADDR        host:port of the server's MTProto listener
    FILEDC_DC          its DC id
    FILEDC_PUBLIC_KEY  path of its RSA public key (PEM, PKCS#1: DATA/public.pem)
    FILEDC_BOT_TOKEN   bot token to log in with
    FILEDC_OUT         directory for downloaded thumbnails
    FILEDC_TIMEOUT     the whole run fails after this many seconds (default 240)
    FILEDC_OTHER_ADDR, FILEDC_OTHER_DC   migrate only: the DC the downloading
                       client is at home on (the file is sent on FILEDC_DC)
    FILEDC_AUTH_KEY    login: a file holding the auth key; written after the key
                       exchange, or read (no exchange) when it exists
    FILEDC_TELETHON_LOG  Python logging level for Telethon (default WARNING)

On any failure the script prints {"error": ...} and the traceback, and exits
with status 1.
"""

import asyncio
import collections
import hashlib
import json
import logging
import os
import sys
import traceback

import telethon
from telethon import TelegramClient, errors, functions, types
from telethon.crypto import AuthKey, rsa
from telethon.network import ConnectionTcpFull
from telethon.sessions import MemorySession
from telethon.tl.alltlobjects import LAYER


def env(name):
    v = os.environ.get(name)
    if not v:
        raise RuntimeError(f'{name} is not set')
    return v


# Every call a client makes through TelegramClient._call (the main sender and
# borrowed ones), counted by request class, so that the tests can check which
# methods Telethon used (saveFilePart or saveBigFilePart, getFile, ...).
# The errors the server answered are counted as "Request: ErrorClass".
calls = collections.Counter()
rpc_errors = collections.Counter()
_orig_call = TelegramClient._call


async def _counting_call(self, sender, request, *args, **kwargs):
    names = [type(r).__name__ for r in (request if isinstance(request, list) else [request])]
    calls.update(names)
    try:
        return await _orig_call(self, sender, request, *args, **kwargs)
    except errors.RPCError as e:
        rpc_errors[f'{"+".join(names)}: {type(e).__name__}'] += 1
        raise


TelegramClient._call = _counting_call

# Every RSA encryption of p_q_inner_data in a key exchange. Telethon 1.25.1
# has one scheme, rsa.encrypt: RSA(SHA1(data) + data + random padding to 255
# bytes), textbook RSA on a 256-byte block (not RSA_PAD).
key_exchanges = []
_orig_encrypt = rsa.encrypt


def _recording_encrypt(fingerprint, data, *, use_old=False):
    block = _orig_encrypt(fingerprint, data, use_old=use_old)
    key_exchanges.append({'fingerprint': fingerprint, 'data_len': len(data), 'use_old': use_old,
                          'encrypted_len': len(block) if block else 0})
    return block


rsa.encrypt = _recording_encrypt


# --- begin connect
async def connect(addr, dc, public_key_path, bot_token, auth_key=None):
    """Connects Telethon to the filedc DC `dc` at `addr` ("host:port") and logs
    in as a bot. The server's key is its public.pem ("BEGIN RSA PUBLIC KEY",
    PKCS#1). With `auth_key` (256 bytes from an earlier session) there is no
    key exchange, and no login when the key is still logged in."""
    host, port = addr.rsplit(':', 1)
    with open(public_key_path) as f:
        rsa.add_key(f.read(), old=False)
    session = MemorySession()
    session.set_dc(dc, host, int(port))
    if auth_key:
        session.auth_key = AuthKey(auth_key)
    client = TelegramClient(session, 1, 'filedc-interop',
                            connection=ConnectionTcpFull,
                            connection_retries=2, retry_delay=1)
    await client.start(bot_token=bot_token)
    return client
# --- end connect


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def doc_info(doc):
    name = next((a.file_name for a in doc.attributes
                 if isinstance(a, types.DocumentAttributeFilename)), '')
    return {
        'doc_id': doc.id,
        'size': doc.size,
        'mime_type': doc.mime_type,
        'file_name': name,
        'dc_id': doc.dc_id,
    }


def peer_of(m):
    return m.peer_id.user_id if isinstance(m.peer_id, types.PeerUser) else 0


def message_info(m):
    return {
        'id': m.id,
        'peer_user_id': peer_of(m),
        'out': bool(m.out),
        'message': m.message,
        'grouped_id': m.grouped_id or 0,
    }


async def read_back(client, sent):
    """Fetches the sent messages with get_messages and downloads each
    document."""
    got = await client.get_messages('me', ids=[m.id for m in sent])
    out = []
    for m in got:
        if m is None or not isinstance(m.media, types.MessageMediaDocument):
            raise RuntimeError(f'get_messages answered {m!r}')
        before = calls['GetFileRequest']
        data = await client.download_media(m, file=bytes)
        out.append({**message_info(m), **doc_info(m.media.document),
                    'downloaded': len(data), 'sha256': sha256(data),
                    'get_file_calls': calls['GetFileRequest'] - before})
    return out


async def files(client, paths):
    """Each file uploaded with upload_file (big path over 10 MiB), sent as a
    document to Saved Messages, read back and downloaded."""
    sent, uploads = [], []
    for p in paths:
        small, big = calls['SaveFilePartRequest'], calls['SaveBigFilePartRequest']
        f = await client.upload_file(p)
        uploads.append({'class': type(f).__name__, 'parts': f.parts, 'name': f.name,
                        'save_file_part': calls['SaveFilePartRequest'] - small,
                        'save_big_file_part': calls['SaveBigFilePartRequest'] - big})
        sent.append(await client.send_file('me', f, force_document=True,
                                           caption=os.path.basename(p)))
    return {'sent': [m.id for m in sent], 'uploads': uploads,
            'messages': await read_back(client, sent)}


async def album(client, paths):
    """The files as one album, a caption each."""
    sent = await client.send_file('me', paths, force_document=True,
                                  caption=[f'album {os.path.basename(p)}' for p in paths])
    history = await client.get_messages('me', limit=len(paths))
    return {'sent': [m.id for m in sent], 'messages': await read_back(client, sent),
            'history': [m.id for m in history]}


def write_out(name, data):
    path = os.path.join(env('FILEDC_OUT'), name)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def size_info(s):
    info = {'class': type(s).__name__, 'type': s.type}
    if isinstance(s, (types.PhotoSize, types.PhotoCachedSize)):
        info.update(w=s.w, h=s.h)
    if isinstance(s, types.PhotoSize):
        info['size'] = s.size
    if isinstance(s, types.PhotoSizeProgressive):
        info.update(w=s.w, h=s.h, size=max(s.sizes))
    return info


async def thumbs(client, msg, sizes, what):
    """Downloads every size of the message's media with download_media(thumb=i),
    the index into Telethon's own ordering of them (which puts the stripped
    one first), and writes each to FILEDC_OUT."""
    out = []
    for i in range(len(sizes)):
        s = client._get_thumb(sizes, i)
        before = calls['GetFileRequest']
        data = await client.download_media(msg, file=bytes, thumb=i)
        if data is None:
            raise RuntimeError(f'{what}: download_media(thumb={i}) gave nothing for {s!r}')
        out.append({**size_info(s), 'thumb': i, 'downloaded': len(data), 'sha256': sha256(data),
                    'get_file_calls': calls['GetFileRequest'] - before,
                    'file': write_out(f'{what}-{i}-{s.type}.jpg', data)})
    return out


async def photo(client, paths):
    """A JPEG sent as a photo, read back and every size downloaded, then the
    same image as a document with its thumbnails."""
    (p,) = paths
    sent = await client.send_file('me', p, caption='a photo')
    (m,) = await client.get_messages('me', ids=[sent.id])
    if not isinstance(m.media, types.MessageMediaPhoto):
        raise RuntimeError(f'photo message has media {m.media!r}')
    ph = m.media.photo
    full = await client.download_media(m, file=bytes)
    res = {**message_info(m), 'sent': [sent.id], 'photo_id': ph.id, 'dc_id': ph.dc_id,
           'sizes': await thumbs(client, m, ph.sizes, 'photo'),
           'full': {'downloaded': len(full), 'sha256': sha256(full)}}

    dsent = await client.send_file('me', p, caption='as a document', force_document=True)
    (d,) = await client.get_messages('me', ids=[dsent.id])
    if not isinstance(d.media, types.MessageMediaDocument):
        raise RuntimeError(f'document message has media {d.media!r}')
    data = await client.download_media(d, file=bytes)
    res['document'] = {**message_info(d), **doc_info(d.media.document),
                       'downloaded': len(data), 'sha256': sha256(data),
                       'thumbs': await thumbs(client, d, d.media.document.thumbs or [], 'document')}
    return res


async def video(client, paths):
    """A video document with the attributes Telethon declares (layer 144: the
    duration in whole seconds), read back, sent again by reference
    (inputMediaDocument, no upload) and downloaded."""
    (p,) = paths
    attr = types.DocumentAttributeVideo(duration=7, w=320, h=240, supports_streaming=True)
    sent = await client.send_file('me', p, attributes=[attr], caption='a video')
    (m,) = await client.get_messages('me', ids=[sent.id])
    if not isinstance(m.media, types.MessageMediaDocument):
        raise RuntimeError(f'video message has media {m.media!r}')
    doc = m.media.document
    videos = [{'duration': a.duration, 'w': a.w, 'h': a.h, 'supports_streaming': bool(a.supports_streaming),
               'round_message': bool(a.round_message)}
              for a in doc.attributes if isinstance(a, types.DocumentAttributeVideo)]
    before = calls['SaveFilePartRequest']
    again = await client.send_file('me', doc, caption='again')
    (m2,) = await client.get_messages('me', ids=[again.id])
    data = await client.download_media(m2, file=bytes)
    return {**message_info(m), **doc_info(doc), 'videos': videos,
            'is_video': m.video is not None, 'telethon_duration': m.file.duration,
            'again': {**message_info(m2), **doc_info(m2.media.document),
                      'save_file_part': calls['SaveFilePartRequest'] - before,
                      'downloaded': len(data), 'sha256': sha256(data)}}


async def file_hashes(client, location, sender=None):
    """upload.getFileHashes through the raw API from offset 0 until the
    hashes cover the whole file (the server answers a bounded number per
    call)."""
    out, offset = [], 0
    while True:
        req = functions.upload.GetFileHashesRequest(location=location, offset=offset)
        got = await (client._call(sender, req) if sender else client(req))
        if not got:
            return out
        for h in got:
            out.append({'offset': h.offset, 'limit': h.limit, 'hash': h.hash.hex()})
        offset = got[-1].offset + got[-1].limit


def doc_location(doc):
    return types.InputDocumentFileLocation(id=doc.id, access_hash=doc.access_hash,
                                           file_reference=doc.file_reference, thumb_size='')


async def hashes(client, paths):
    """A document's range hashes with upload.getFileHashes, from offset 0 and
    from an offset inside the file."""
    (p,) = paths
    sent = await client.send_file('me', p, force_document=True)
    doc = sent.media.document
    loc = doc_location(doc)
    inner = await client(functions.upload.GetFileHashesRequest(location=loc, offset=3 * 131072 + 5))
    return {**doc_info(doc), 'id': sent.id, 'hashes': await file_hashes(client, loc),
            'inner': [{'offset': h.offset, 'limit': h.limit, 'hash': h.hash.hex()} for h in inner]}


async def migrate(client, paths):
    """The file is sent on FILEDC_DC by `client`; a second client, at home on
    FILEDC_OTHER_DC, downloads it. Its own DC answers FILE_MIGRATE_X, and
    Telethon borrows an exported sender for the file's DC
    (auth.exportAuthorization at home, auth.importAuthorization there)."""
    (p,) = paths
    sent = await client.send_file('me', p, force_document=True)
    doc = sent.media.document
    me = await client.get_me()
    res = {**doc_info(doc), 'id': sent.id, 'uploader': {'id': me.id, 'dc': client.session.dc_id}}
    await client.disconnect()

    other = await connect(env('FILEDC_OTHER_ADDR'), int(env('FILEDC_OTHER_DC')),
                          env('FILEDC_PUBLIC_KEY'), env('FILEDC_BOT_TOKEN'))
    try:
        me = await other.get_me()
        res['downloader'] = {'id': me.id, 'dc': other.session.dc_id}
        loc = doc_location(doc)
        # The raw calls on the home DC see the redirect themselves.
        errs = {}
        for name, req in (('get_file', functions.upload.GetFileRequest(location=loc, offset=0, limit=4096)),
                          ('get_file_hashes', functions.upload.GetFileHashesRequest(location=loc, offset=0))):
            try:
                await other(req)
                errs[name] = 'no error'
            except errors.RPCError as e:
                # Telethon keeps the class the text matched (FILE_MIGRATE_(\d+)
                # -> FileMigrateError) and its number, not the text itself.
                errs[name] = {'code': e.code, 'class': type(e).__name__,
                              'new_dc': getattr(e, 'new_dc', None)}
        res['home_errors'] = errs
        # download_file without a dc_id starts on the home DC: FILE_MIGRATE_X,
        # then _borrow_exported_sender.
        before = dict(calls)
        data = await other.download_file(loc, bytes, file_size=doc.size)
        res['downloaded'] = len(data)
        res['sha256'] = sha256(data)
        res['download_calls'] = {k: v - before.get(k, 0) for k, v in calls.items() if v != before.get(k, 0)}
        borrowed = {dc: s.dc_id for dc, (_, s) in other._borrowed_senders.items()}
        res['borrowed'] = list(borrowed)
        # The range hashes over the borrowed sender.
        sender = await other._borrow_exported_sender(doc.dc_id)
        try:
            res['hashes'] = await file_hashes(other, loc, sender)
        finally:
            await other._return_exported_sender(sender)
    finally:
        await other.disconnect()
    return res


async def login(client, paths):
    """Only the login. With FILEDC_AUTH_KEY (a file path) the auth key is
    written there, or read from it when it exists (see run)."""
    return {'auth_key_id': client.session.auth_key.key_id}


SCENARIOS = {'login': login, 'files': files, 'album': album, 'photo': photo, 'video': video, 'hashes': hashes, 'migrate': migrate}


def aes_backend():
    """Which AES-IGE Telethon uses: cryptg, OpenSSL's through ctypes, or its
    pure Python one (about a hundred times slower)."""
    from telethon.crypto import aes, libssl
    if aes.cryptg:
        return 'cryptg'
    return 'libssl' if libssl.encrypt_ige and libssl.decrypt_ige else 'python'


async def run(scenario, paths):
    key_file, key = os.environ.get('FILEDC_AUTH_KEY'), None
    if key_file and os.path.exists(key_file):
        with open(key_file, 'rb') as f:
            key = f.read()
    client = await connect(env('FILEDC_ADDR'), int(env('FILEDC_DC')),
                           env('FILEDC_PUBLIC_KEY'), env('FILEDC_BOT_TOKEN'), key)
    if key_file and not key:
        with open(key_file, 'wb') as f:
            f.write(client.session.auth_key.key)
    try:
        me = await client.get_me()
        res = await SCENARIOS[scenario](client, paths)
        return {'telethon': telethon.__version__, 'layer': LAYER, 'aes': aes_backend(),
                'self': {'id': me.id, 'bot': bool(me.bot)}, **res, 'calls': dict(calls), 'rpc_errors': dict(rpc_errors),
                'key_exchanges': key_exchanges}
    finally:
        await client.disconnect()


def main():
    logging.basicConfig(stream=sys.stderr, level=os.environ.get('FILEDC_TELETHON_LOG', 'WARNING'),
                        format='telethon %(levelname)s %(name)s: %(message)s')
    if len(sys.argv) < 2 or sys.argv[1] not in SCENARIOS:
        print(f'usage: {sys.argv[0]} {"|".join(SCENARIOS)} FILE...', file=sys.stderr)
        sys.exit(2)
    timeout = float(os.environ.get('FILEDC_TIMEOUT', '240'))
    try:
        res = asyncio.run(asyncio.wait_for(run(sys.argv[1], sys.argv[2:]), timeout))
    except BaseException as e:  # noqa: BLE001 - every failure is reported
        traceback.print_exc()
        print(json.dumps({'error': f'{type(e).__name__}: {e}'}))
        sys.exit(1)
    print(json.dumps(res))


if __name__ == '__main__':
    main()
