package snapshot

import (
	"encoding/binary"
	"math/bits"
)

// Redis's checksum (src/crc64.c) is CRC-64/Jones: polynomial
// 0xad93d23594c935a9, reflected input and output, initial value 0 and no
// final xor. crc64Update implements it table-driven, slicing by 16: two
// 8-byte words per step, the second independent of the running CRC, so a
// step's lookups overlap (about 1.5x slicing by 8; the tables are 32 KiB).
var crcTable = makeCRCTable(bits.Reverse64(0xad93d23594c935a9))

func makeCRCTable(reflectedPoly uint64) *[16][256]uint64 {
	t := new([16][256]uint64)
	for i := range 256 {
		crc := uint64(i)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ reflectedPoly
			} else {
				crc >>= 1
			}
		}
		t[0][i] = crc
	}
	for i := range 256 {
		crc := t[0][i]
		for k := 1; k < 16; k++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[k][i] = crc
		}
	}
	return t
}

// crc64Update returns the Redis CRC64 of p continuing from crc; start with 0.
func crc64Update(crc uint64, p []byte) uint64 {
	t := crcTable
	for len(p) >= 16 {
		crc ^= binary.LittleEndian.Uint64(p)
		w := binary.LittleEndian.Uint64(p[8:])
		crc = t[15][crc&0xff] ^ t[14][crc>>8&0xff] ^ t[13][crc>>16&0xff] ^ t[12][crc>>24&0xff] ^
			t[11][crc>>32&0xff] ^ t[10][crc>>40&0xff] ^ t[9][crc>>48&0xff] ^ t[8][crc>>56] ^
			t[7][w&0xff] ^ t[6][w>>8&0xff] ^ t[5][w>>16&0xff] ^ t[4][w>>24&0xff] ^
			t[3][w>>32&0xff] ^ t[2][w>>40&0xff] ^ t[1][w>>48&0xff] ^ t[0][w>>56]
		p = p[16:]
	}
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
