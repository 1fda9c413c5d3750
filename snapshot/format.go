package snapshot

import "strconv"

// Constants of the RDB format (src/rdb.h). Only the subset this package
// reads or writes is named.
const (
	// WriteVersion is the RDB version the Encoder writes. Redis 7.0 writes
	// 10; every Redis since 7.0 loads it.
	WriteVersion = 10
	// MaxVersion is the newest RDB version the Decoder reads (Redis 7.4 and
	// 8.x write 12; the string and set encodings did not change).
	MaxVersion = 12
	// NumDBs is the number of logical databases sessiond holds, as Redis's
	// default "databases 16".
	NumDBs = 16
)

// Length prefixes.
const (
	len6Bit  = 0
	len14Bit = 1
	len32Bit = 0x80
	len64Bit = 0x81
	lenEnc   = 3 // top two bits 11: a special string encoding follows
)

// Special string encodings (low six bits after 11).
const (
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Value types.
const (
	typeString          = 0
	typeList            = 1
	typeSet             = 2
	typeZset            = 3
	typeHash            = 4
	typeZset2           = 5
	typeModulePreGA     = 6
	typeModule2         = 7
	typeHashZipmap      = 9
	typeListZiplist     = 10
	typeSetIntset       = 11
	typeZsetZiplist     = 12
	typeHashZiplist     = 13
	typeListQuicklist   = 14
	typeStreamListpacks = 15
	typeHashListpack    = 16
	typeZsetListpack    = 17
	typeListQuicklist2  = 18
	typeStream2         = 19
	typeSetListpack     = 20
	typeStream3         = 21
	typeHashMetaPreGA   = 22
	typeHashLPExPreGA   = 23
	typeHashMeta        = 24
	typeHashLPEx        = 25
)

// Opcodes.
const (
	opSlotInfo      = 0xF4
	opFunction2     = 0xF5
	opFunctionPreGA = 0xF6
	opModuleAux     = 0xF7
	opIdle          = 0xF8
	opFreq          = 0xF9
	opAux           = 0xFA
	opResizeDB      = 0xFB
	opExpireTimeMs  = 0xFC
	opExpireTime    = 0xFD
	opSelectDB      = 0xFE
	opEOF           = 0xFF
)

// Module value sub-opcodes (RDB_MODULE_OPCODE_*).
const (
	moduleOpEOF    = 0
	moduleOpSInt   = 1
	moduleOpUInt   = 2
	moduleOpFloat  = 3
	moduleOpDouble = 4
	moduleOpString = 5
)

// typeName names an RDB value type the way Redis's TYPE command does.
func typeName(t byte) string {
	switch t {
	case typeString:
		return "string"
	case typeList, typeListZiplist, typeListQuicklist, typeListQuicklist2:
		return "list"
	case typeSet, typeSetIntset, typeSetListpack:
		return "set"
	case typeZset, typeZset2, typeZsetZiplist, typeZsetListpack:
		return "zset"
	case typeHash, typeHashZipmap, typeHashZiplist, typeHashListpack,
		typeHashMetaPreGA, typeHashLPExPreGA, typeHashMeta, typeHashLPEx:
		return "hash"
	case typeStreamListpacks, typeStream2, typeStream3:
		return "stream"
	case typeModulePreGA, typeModule2:
		return "module"
	}
	return "type " + strconv.Itoa(int(t))
}
