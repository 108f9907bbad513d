package main

import "fmt"

// expandKey is AES-256's key expansion with AESKEYGENASSIST, and the
// decryption keys of the equivalent inverse cipher (AESIMC of the 13
// middle ones, in reverse), after Go's expandKeyAsm.
const expandKey = `
// func expandKey(key *[32]byte, enc, dec *[240]byte)
// Requires: AES, SSE2
TEXT ·expandKey(SB), NOSPLIT, $0-24
	MOVQ        key+0(FP), AX
	MOVQ        enc+8(FP), BX
	MOVQ        dec+16(FP), DX
	MOVUPS      (AX), X0
	MOVUPS      X0, (BX)
	ADDQ        $0x10, BX
	PXOR        X4, X4
	MOVUPS      16(AX), X2
	MOVUPS      X2, (BX)
	ADDQ        $0x10, BX
%s
	MOVQ        $13, CX
	SUBQ        $0x10, BX
	MOVUPS      (BX), X1
	MOVUPS      X1, (DX)

decKeys:
	MOVUPS      -16(BX), X1
	AESIMC      X1, X0
	MOVUPS      X0, 16(DX)
	SUBQ        $0x10, BX
	ADDQ        $0x10, DX
	DECQ        CX
	JNZ         decKeys
	MOVUPS      -16(BX), X0
	MOVUPS      X0, 16(DX)
	RET

TEXT expandA<>(SB), NOSPLIT, $0
	PSHUFD      $0xff, X1, X1
	SHUFPS      $0x10, X0, X4
	PXOR        X4, X0
	SHUFPS      $0x8c, X0, X4
	PXOR        X4, X0
	PXOR        X1, X0
	MOVUPS      X0, (BX)
	ADDQ        $0x10, BX
	RET

TEXT expandB<>(SB), NOSPLIT, $0
	PSHUFD      $0xaa, X1, X1
	SHUFPS      $0x10, X2, X4
	PXOR        X4, X2
	SHUFPS      $0x8c, X2, X4
	PXOR        X4, X2
	PXOR        X1, X2
	MOVUPS      X2, (BX)
	ADDQ        $0x10, BX
	RET
`

func expansionSteps() string {
	var a asm
	for _, rcon := range []string{"0x01", "0x02", "0x04", "0x08", "0x10", "0x20"} {
		a.i("AESKEYGENASSIST", "$"+rcon, "X2", "X1")
		a.i("CALL", "expandA<>(SB)")
		a.i("AESKEYGENASSIST", "$"+rcon, "X0", "X1")
		a.i("CALL", "expandB<>(SB)")
	}
	a.i("AESKEYGENASSIST", "$0x40", "X2", "X1")
	a.i("CALL", "expandA<>(SB)")
	return a.String()
}

// aesRegs names the registers of an IGE chain. In IGE, out[i] =
// AES(in[i] ^ out[i-1]) ^ in[i-1]; only the XOR with out[i-1] and the 14
// rounds are on the chain from block to block: the first round key is
// XORed into in[i], and in[i-1] into the last round key (the last round
// XORs its key last), before the chain reaches them.
type aesRegs struct {
	chain  string // out[i-1], then out[i]
	prevIn string // in[i-1]
	in     string // in[i]
	tmp    string
	// With keys in registers: the first and last round key, the scratch
	// for the last key, and round keys 1-8 (the rest are loaded into tmp).
	first, last, lastTmp string
	keys                 []string
}

// aesBlock writes one IGE block: op is AESENC or AESDEC, in at off(SI),
// out to off(DI), round keys at (AX).
func (a *asm) aesBlock(op string, off int, r aesRegs) {
	a.i("MOVOU", fmt.Sprintf("%d(SI)", off), r.in)
	if r.first != "" {
		a.i("MOVO", r.in, r.tmp)
		a.i("PXOR", r.first, r.tmp)
		a.i("PXOR", r.tmp, r.chain)
		a.i("MOVO", r.last, r.lastTmp)
		a.i("PXOR", r.prevIn, r.lastTmp)
	} else {
		a.i("MOVOU", "(AX)", r.tmp)
		a.i("PXOR", r.in, r.tmp)
		a.i("PXOR", r.tmp, r.chain)
	}
	for k := 1; k <= 13; k++ {
		if k <= len(r.keys) {
			a.i(op, r.keys[k-1], r.chain)
			continue
		}
		a.i("MOVOU", fmt.Sprintf("%d(AX)", 16*k), r.tmp)
		a.i(op, r.tmp, r.chain)
	}
	if r.first == "" {
		a.i("MOVOU", "224(AX)", r.tmp)
		a.i("PXOR", r.prevIn, r.tmp)
		a.i(op+"LAST", r.tmp, r.chain)
	} else {
		a.i(op+"LAST", r.lastTmp, r.chain)
	}
	a.i("MOVOU", r.chain, fmt.Sprintf("%d(DI)", off))
	a.i("MOVO", r.in, r.prevIn)
}

// igeLoop writes decryptBlocks or encryptBlocks: one block at a time, the
// round keys in registers.
func (a *asm) igeLoop(name, op, keys string, decrypt bool) {
	r := aesRegs{chain: "X0", prevIn: "X6", in: "X1", tmp: "X2", first: "X3", last: "X4", lastTmp: "X5",
		keys: []string{"X7", "X8", "X9", "X10", "X11", "X12", "X13", "X14"}}
	ivChain, ivPrev := ivSlots(decrypt)
	a.p("\n// func %s(%s *[240]byte, iv *[32]byte, dst, src []byte)", name, keys)
	a.p("// Requires: AES, SSE2")
	a.p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	a.i("MOVQ", keys+"+0(FP)", "AX")
	a.i("MOVQ", "iv+8(FP)", "BX")
	a.i("MOVQ", "dst_base+16(FP)", "DI")
	a.i("MOVQ", "src_base+40(FP)", "SI")
	a.i("MOVQ", "src_len+48(FP)", "CX")
	a.i("SHRQ", "$4", "CX")
	a.i("JZ", name+"Done")
	a.i("MOVOU", ivChain, r.chain)
	a.i("MOVOU", ivPrev, r.prevIn)
	a.i("MOVOU", "(AX)", r.first)
	a.i("MOVOU", "224(AX)", r.last)
	for k, reg := range r.keys {
		a.i("MOVOU", fmt.Sprintf("%d(AX)", 16*(k+1)), reg)
	}
	a.p("\n%sBlock:", name)
	a.aesBlock(op, 0, r)
	a.i("ADDQ", "$16", "SI")
	a.i("ADDQ", "$16", "DI")
	a.i("DECQ", "CX")
	a.i("JNZ", name+"Block")
	a.i("MOVOU", r.chain, ivChain)
	a.i("MOVOU", r.prevIn, ivPrev)
	a.p("\n%sDone:\n\tRET", name)
}

func igeAsm() string {
	var a asm
	a.p("%s", header)
	a.p(expandKey, expansionSteps())
	a.p(`// decryptBlocks: p[i] = D(c[i] ^ p[i-1]) ^ c[i-1], with iv = c[-1] || p[-1];
// encryptBlocks: c[i] = E(p[i] ^ c[i-1]) ^ p[i-1]. Each leaves iv holding
// the last blocks, for a next call to go on from. Round keys 1-8 stay in
// X7-X14; the rest are loaded as they are needed (the key schedule need not
// be 16-byte aligned, which a memory operand of AESDEC would require).`)
	a.igeLoop("decryptBlocks", "AESDEC", "dec", true)
	a.igeLoop("encryptBlocks", "AESENC", "enc", false)
	return a.String()
}

// In the fused loops SHA-256 has X0-X10 (one state: X1, X2, kept in X9,
// X10) and AES X11-X14 with its round keys loaded as they are needed.
var (
	fusedSHA = []shaState{{"X1", "X2", "X9", "X10"}}
	fusedAES = aesRegs{chain: "X11", prevIn: "X14", in: "X12", tmp: "X13"}
)

// ivSlots names where (BX) holds an IGE chain's blocks: iv is c[-1] ||
// p[-1], decryption chains on p and encryption on c.
func ivSlots(decrypt bool) (chain, prevIn string) {
	if decrypt {
		return "16(BX)", "(BX)"
	}
	return "(BX)", "16(BX)"
}

// fusedLoop writes the loop over the 64-byte chunks after the first at
// label, each fusedChunk.
func (a *asm) fusedLoop(label, op string) {
	a.p("\n%s:", label)
	a.fusedChunk(op)
	a.i("ADDQ", "$64", "SI")
	a.i("ADDQ", "$64", "DI")
	a.i("ADDQ", "$64", "R8")
	a.i("DECQ", "CX")
	a.i("JNZ", label)
}

// fusedChunk writes 64 bytes of AES-IGE interleaved with the SHA-256
// rounds of one block at (R8): a quarter after each AES block.
func (a *asm) fusedChunk(op string) {
	a.shaSave(fusedSHA)
	for b := range 4 {
		a.aesBlock(op, 16*b, fusedAES)
		for g := 4 * b; g < 4*b+4; g++ {
			a.shaGroup(g, "R8", "R9", fusedSHA)
		}
	}
	a.shaAdd(fusedSHA)
}

// fusedPrologue loads the arguments common to both fused loops; the
// caller has loaded SI, DI, R8 and CX (64-byte chunks).
func (a *asm) fusedPrologue(done string, decrypt bool) {
	a.i("SHRQ", "$6", "CX")
	a.i("JZ", done)
	a.shaLoad("DX", fusedSHA[0])
	a.i("MOVOU", "sha256Flip<>+0(SB)", "X8")
	a.i("LEAQ", "sha256K<>+0(SB)", "R9")
	ivChain, ivPrev := ivSlots(decrypt)
	a.i("MOVOU", ivChain, fusedAES.chain)
	a.i("MOVOU", ivPrev, fusedAES.prevIn)
}

func (a *asm) fusedEpilogue(done string, decrypt bool) {
	a.shaStore("DX", fusedSHA[0])
	ivChain, ivPrev := ivSlots(decrypt)
	a.i("MOVOU", fusedAES.chain, ivChain)
	a.i("MOVOU", fusedAES.prevIn, ivPrev)
	a.p("\n%s:\n\tRET", done)
}

func fusedAsm() string {
	var a asm
	a.p("%s", header)
	a.shaData()
	a.p(`
// func decryptHashBlocks(dec *[240]byte, iv *[32]byte, state *[8]uint32, buf, src []byte)
//
// IGE-decrypts src into buf, 32 bytes on, and runs SHA-256 over buf up to
// the end of the plaintext (src is a multiple of 64 bytes). AES-IGE and
// SHA-256 are each bound by the latency of their own chain, and the two
// chains are independent: each 64 bytes decrypted interleave with the
// SHA-256 rounds of the block of buf before, which they completed, so the
// core runs one chain while the other waits. iv is left holding the last
// blocks.
// Requires: AES, SHA, SSE4.1, SSSE3
TEXT ·decryptHashBlocks(SB), NOSPLIT, $0-72`)
	a.i("MOVQ", "dec+0(FP)", "AX")
	a.i("MOVQ", "iv+8(FP)", "BX")
	a.i("MOVQ", "state+16(FP)", "DX")
	a.i("MOVQ", "buf_base+24(FP)", "R8")
	a.i("MOVQ", "src_base+48(FP)", "SI")
	a.i("MOVQ", "src_len+56(FP)", "CX")
	a.i("LEAQ", "32(R8)", "DI")
	a.fusedPrologue("decryptHashDone", true)
	a.p("\n\t// The first 64 bytes alone: no block of buf is complete before them.")
	for b := range 4 {
		a.aesBlock("AESDEC", 16*b, fusedAES)
	}
	a.i("ADDQ", "$64", "SI")
	a.i("ADDQ", "$64", "DI")
	a.i("DECQ", "CX")
	a.i("JZ", "decryptHashLast")
	a.fusedLoop("decryptHashChunk", "AESDEC")
	a.p("\ndecryptHashLast:")
	a.shaSave(fusedSHA)
	for g := range 16 {
		a.shaGroup(g, "R8", "R9", fusedSHA)
	}
	a.shaAdd(fusedSHA)
	a.fusedEpilogue("decryptHashDone", true)

	a.p(`
// func encryptHashBlocks(enc *[240]byte, iv *[32]byte, state *[8]uint32, dst, src, next []byte)
//
// IGE-encrypts src into dst and, in the same loop, runs SHA-256 over next,
// as long as src (a multiple of 64 bytes): a sender encrypts one message
// while it hashes the next for its msg_key. iv is left holding the last
// blocks.
// Requires: AES, SHA, SSE4.1, SSSE3
TEXT ·encryptHashBlocks(SB), NOSPLIT, $0-96`)
	a.i("MOVQ", "enc+0(FP)", "AX")
	a.i("MOVQ", "iv+8(FP)", "BX")
	a.i("MOVQ", "state+16(FP)", "DX")
	a.i("MOVQ", "dst_base+24(FP)", "DI")
	a.i("MOVQ", "src_base+48(FP)", "SI")
	a.i("MOVQ", "src_len+56(FP)", "CX")
	a.i("MOVQ", "next_base+72(FP)", "R8")
	a.fusedPrologue("encryptHashDone", false)
	a.fusedLoop("encryptHashChunk", "AESENC")
	a.fusedEpilogue("encryptHashDone", false)
	return a.String()
}
