// Package media turns uploaded images into what Telegram clients expect to
// find in photo and sticker objects. It is pure Go with no MTProto types:
// the RPC layer calls it and wraps the results.
//
//   - PhotoSizes (rule M5) decodes a JPEG, PNG, GIF (first frame) or WebP,
//     checks its dimensions from the header before anything is decoded, and
//     produces the baseline JPEG sizes s (box 100), m (320), x (800),
//     y (1280) and w (2560) plus the stripped thumbnail i.
//   - Stripped and ExpandStripped (M5) build and rebuild photoStrippedSize
//     bytes: 0x01, height, width and the scan data of a quality-20 JPEG
//     whose header every client has built in.
//   - DecodePath, EncodePath, ParsePath and Outline (M9) handle the compact
//     SVG path of photoPathSize j, the outline clients draw while a sticker
//     loads.
//
// Everything here reads untrusted bytes: every function bounds what it
// allocates by limits it checks first, and each parser has a fuzz target.
package media
