package reconcile

import (
	"encoding/binary"
	"math/bits"
)

// PostgreSQL's 64-bit extended hash functions (Bob Jenkins' lookup3, as
// src/common/hashfn.c adapts it), in Go, so a side that cannot hash its
// rows in SQL (a MongoDB or CockroachDB source, a column SQL cannot
// normalise) produces the very checksums a PostgreSQL side computes with
// hashint8extended, hashtextextended and timestamp_hash_extended. The
// results are those of a little-endian server (the byte order of every
// platform PostgreSQL ships binaries for); TestPGHashMatchesServer checks
// them against a real one.

const lookup3Init = 0x9e3779b9 + 3923095

// mix3 is lookup3's reversible mix of three words: six rounds, each
// mixing one word with the next two.
func mix3(a, b, c uint32) (uint32, uint32, uint32) {
	a = (a - c) ^ bits.RotateLeft32(c, 4)
	c += b
	b = (b - a) ^ bits.RotateLeft32(a, 6)
	a += c
	c = (c - b) ^ bits.RotateLeft32(b, 8)
	b += a
	a = (a - c) ^ bits.RotateLeft32(c, 16)
	c += b
	b = (b - a) ^ bits.RotateLeft32(a, 19)
	a += c
	c = (c - b) ^ bits.RotateLeft32(b, 4)
	b += a
	return a, b, c
}

// final3 is lookup3's final mix; the hash is (b, c). Seven steps, each
// mixing the word the previous step changed into the next one.
func final3(a, b, c uint32) (uint32, uint32) {
	c = (c ^ b) - bits.RotateLeft32(b, 14)
	a = (a ^ c) - bits.RotateLeft32(c, 11)
	b = (b ^ a) - bits.RotateLeft32(a, 25)
	c = (c ^ b) - bits.RotateLeft32(b, 16)
	a = (a ^ c) - bits.RotateLeft32(c, 4)
	b = (b ^ a) - bits.RotateLeft32(a, 14)
	c = (c ^ b) - bits.RotateLeft32(b, 24)
	return b, c
}

// seeded starts the state for n bytes of input, perturbed by a non-zero seed.
func seeded(n int, seed uint64) (a, b, c uint32) {
	a = lookup3Init + uint32(n)
	b, c = a, a
	if seed != 0 {
		a += uint32(seed >> 32)
		b += uint32(seed)
		a, b, c = mix3(a, b, c)
	}
	return a, b, c
}

// pgHashBytes is hash_bytes_extended (hash_any_extended).
func pgHashBytes(k []byte, seed uint64) uint64 {
	a, b, c := seeded(len(k), seed)
	for len(k) >= 12 {
		a += binary.LittleEndian.Uint32(k)
		b += binary.LittleEndian.Uint32(k[4:])
		c += binary.LittleEndian.Uint32(k[8:])
		a, b, c = mix3(a, b, c)
		k = k[12:]
	}
	// the last 11 bytes, little-endian; c's lowest byte is the length's
	var tail [12]byte
	copy(tail[:], k)
	a += binary.LittleEndian.Uint32(tail[:])
	b += binary.LittleEndian.Uint32(tail[4:])
	c += binary.LittleEndian.Uint32(tail[8:]) << 8
	b, c = final3(a, b, c)
	return uint64(b)<<32 | uint64(c)
}

// pgHashUint32 is hash_bytes_uint32_extended.
func pgHashUint32(k uint32, seed uint64) uint64 {
	a, b, c := seeded(4, seed)
	b, c = final3(a+k, b, c)
	return uint64(b)<<32 | uint64(c)
}

// pgHashInt8 is hashint8extended (and timestamp_hash_extended, which hashes
// the timestamp's int64 of µs since 2000-01-01): an int8 that fits in an
// int4 hashes as that int4 does.
func pgHashInt8(v int64, seed uint64) uint64 {
	lo, hi := uint32(v), uint32(v>>32)
	if v < 0 {
		hi = ^hi
	}
	return pgHashUint32(lo^hi, seed)
}

// pgHashText is hashtextextended under a deterministic collation: the
// hash of the text's bytes.
func pgHashText(s string, seed uint64) uint64 {
	return pgHashBytes([]byte(s), seed)
}
