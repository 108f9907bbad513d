// AES-256 in IGE mode with AES-NI. The key expansion is derived from Go's
// crypto/internal/fips140/aes/aes_amd64.s (expandKeyAsm). Copyright 2012
// The Go Authors. All rights reserved. Use of this source code is governed
// by a BSD-style license that can be found in Go's LICENSE file.

//go:build !purego

#include "textflag.h"

// func expandKey(key *[32]byte, enc, dec *[240]byte)
// Requires: AES, SSE2
TEXT ·expandKey(SB), NOSPLIT, $0-24
	MOVQ   key+0(FP), AX
	MOVQ   enc+8(FP), BX
	MOVQ   dec+16(FP), DX
	MOVUPS (AX), X0
	MOVUPS X0, (BX)
	ADDQ   $0x10, BX
	PXOR   X4, X4
	MOVUPS 16(AX), X2
	MOVUPS X2, (BX)
	ADDQ   $0x10, BX
	AESKEYGENASSIST $0x01, X2, X1
	CALL            expandA<>(SB)
	AESKEYGENASSIST $0x01, X0, X1
	CALL            expandB<>(SB)
	AESKEYGENASSIST $0x02, X2, X1
	CALL            expandA<>(SB)
	AESKEYGENASSIST $0x02, X0, X1
	CALL            expandB<>(SB)
	AESKEYGENASSIST $0x04, X2, X1
	CALL            expandA<>(SB)
	AESKEYGENASSIST $0x04, X0, X1
	CALL            expandB<>(SB)
	AESKEYGENASSIST $0x08, X2, X1
	CALL            expandA<>(SB)
	AESKEYGENASSIST $0x08, X0, X1
	CALL            expandB<>(SB)
	AESKEYGENASSIST $0x10, X2, X1
	CALL            expandA<>(SB)
	AESKEYGENASSIST $0x10, X0, X1
	CALL            expandB<>(SB)
	AESKEYGENASSIST $0x20, X2, X1
	CALL            expandA<>(SB)
	AESKEYGENASSIST $0x20, X0, X1
	CALL            expandB<>(SB)
	AESKEYGENASSIST $0x40, X2, X1
	CALL            expandA<>(SB)

	// The decryption keys, for AESDEC's equivalent inverse cipher: the
	// encryption keys in reverse, the 13 middle ones through AESIMC.
	MOVQ   $13, CX
	SUBQ   $0x10, BX
	MOVUPS (BX), X1
	MOVUPS X1, (DX)

decLoop:
	MOVUPS -16(BX), X1
	AESIMC X1, X0
	MOVUPS X0, 16(DX)
	SUBQ   $0x10, BX
	ADDQ   $0x10, DX
	DECQ   CX
	JNZ    decLoop
	MOVUPS -16(BX), X0
	MOVUPS X0, 16(DX)
	RET

TEXT expandA<>(SB), NOSPLIT, $0
	PSHUFD $0xff, X1, X1
	SHUFPS $0x10, X0, X4
	PXOR   X4, X0
	SHUFPS $0x8c, X0, X4
	PXOR   X4, X0
	PXOR   X1, X0
	MOVUPS X0, (BX)
	ADDQ   $0x10, BX
	RET

TEXT expandB<>(SB), NOSPLIT, $0
	PSHUFD $0xaa, X1, X1
	SHUFPS $0x10, X2, X4
	PXOR   X4, X2
	SHUFPS $0x8c, X2, X4
	PXOR   X4, X2
	PXOR   X1, X2
	MOVUPS X2, (BX)
	ADDQ   $0x10, BX
	RET

// func decryptBlocks(dec *[240]byte, iv *[32]byte, dst, src []byte)
//
// p[i] = D(c[i] ^ p[i-1]) ^ c[i-1], with iv = c[-1] || p[-1]; iv is left
// holding the last blocks, for a next call to go on from. Only the XOR
// with p[i-1] and the 14 rounds are on the chain from one block to the
// next: the first round key is XORed into c[i], and c[i-1] into the last
// round key (AESDECLAST XORs its key last), before the chain reaches them.
// Round keys 1-8 stay in X7-X14; the rest are loaded as they are needed
// (the key schedule need not be 16-byte aligned, which AESDEC's memory
// operand would require).
// Requires: AES, SSE2
TEXT ·decryptBlocks(SB), NOSPLIT, $0-64
	MOVQ  dec+0(FP), AX
	MOVQ  iv+8(FP), BX
	MOVQ  dst_base+16(FP), DI
	MOVQ  src_base+40(FP), SI
	MOVQ  src_len+48(FP), CX
	SHRQ  $4, CX
	JZ    decDone
	MOVUPS (BX), X6    // c[i-1]
	MOVUPS 16(BX), X0  // p[i-1]
	MOVUPS (AX), X3    // first round key
	MOVUPS 224(AX), X4 // last round key
	MOVUPS 16(AX), X7
	MOVUPS 32(AX), X8
	MOVUPS 48(AX), X9
	MOVUPS 64(AX), X10
	MOVUPS 80(AX), X11
	MOVUPS 96(AX), X12
	MOVUPS 112(AX), X13
	MOVUPS 128(AX), X14

decBlock:
	MOVUPS (SI), X1
	MOVO   X1, X2
	PXOR   X3, X2
	PXOR   X2, X0
	MOVO   X4, X5
	PXOR   X6, X5
	AESDEC X7, X0
	AESDEC X8, X0
	AESDEC X9, X0
	AESDEC X10, X0
	AESDEC X11, X0
	AESDEC X12, X0
	AESDEC X13, X0
	AESDEC X14, X0
	MOVUPS 144(AX), X2
	AESDEC X2, X0
	MOVUPS 160(AX), X2
	AESDEC X2, X0
	MOVUPS 176(AX), X2
	AESDEC X2, X0
	MOVUPS 192(AX), X2
	AESDEC X2, X0
	MOVUPS 208(AX), X2
	AESDEC X2, X0
	AESDECLAST X5, X0
	MOVUPS X0, (DI)
	MOVO   X1, X6
	ADDQ   $16, SI
	ADDQ   $16, DI
	DECQ   CX
	JNZ    decBlock
	MOVUPS X6, (BX)
	MOVUPS X0, 16(BX)

decDone:
	RET

// func encryptBlocks(enc *[240]byte, iv *[32]byte, dst, src []byte)
//
// c[i] = E(p[i] ^ c[i-1]) ^ p[i-1], with iv = c[-1] || p[-1], chained the
// same way as decryptBlocks.
// Requires: AES, SSE2
TEXT ·encryptBlocks(SB), NOSPLIT, $0-64
	MOVQ  enc+0(FP), AX
	MOVQ  iv+8(FP), BX
	MOVQ  dst_base+16(FP), DI
	MOVQ  src_base+40(FP), SI
	MOVQ  src_len+48(FP), CX
	SHRQ  $4, CX
	JZ    encDone
	MOVUPS (BX), X0    // c[i-1]
	MOVUPS 16(BX), X6  // p[i-1]
	MOVUPS (AX), X3
	MOVUPS 224(AX), X4
	MOVUPS 16(AX), X7
	MOVUPS 32(AX), X8
	MOVUPS 48(AX), X9
	MOVUPS 64(AX), X10
	MOVUPS 80(AX), X11
	MOVUPS 96(AX), X12
	MOVUPS 112(AX), X13
	MOVUPS 128(AX), X14

encBlock:
	MOVUPS (SI), X1
	MOVO   X1, X2
	PXOR   X3, X2
	PXOR   X2, X0
	MOVO   X4, X5
	PXOR   X6, X5
	AESENC X7, X0
	AESENC X8, X0
	AESENC X9, X0
	AESENC X10, X0
	AESENC X11, X0
	AESENC X12, X0
	AESENC X13, X0
	AESENC X14, X0
	MOVUPS 144(AX), X2
	AESENC X2, X0
	MOVUPS 160(AX), X2
	AESENC X2, X0
	MOVUPS 176(AX), X2
	AESENC X2, X0
	MOVUPS 192(AX), X2
	AESENC X2, X0
	MOVUPS 208(AX), X2
	AESENC X2, X0
	AESENCLAST X5, X0
	MOVUPS X0, (DI)
	MOVO   X1, X6
	ADDQ   $16, SI
	ADDQ   $16, DI
	DECQ   CX
	JNZ    encBlock
	MOVUPS X0, (BX)
	MOVUPS X6, 16(BX)

encDone:
	RET
