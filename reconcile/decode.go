package reconcile

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// pgEpoch is PostgreSQL's timestamp epoch (2000-01-01 UTC), in µs after 1970.
const pgEpochMicros = 946684800 * 1000000

// decodeBinary decodes the binary form of common types without pgx's
// generic machinery (the compare loop's hot path); ok is false for a type
// or format it does not handle.
func decodeBinary(oid uint32, format int16, raw []byte) (any, bool) {
	if raw == nil {
		return nil, true
	}
	if format == 0 {
		switch oid {
		case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
			return string(raw), true
		}
		return nil, false
	}
	switch oid {
	case pgtype.Int8OID:
		return int64(binary.BigEndian.Uint64(raw)), true
	case pgtype.Int4OID:
		return int64(int32(binary.BigEndian.Uint32(raw))), true
	case pgtype.Int2OID:
		return int64(int16(binary.BigEndian.Uint16(raw))), true
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
		return string(raw), true
	case pgtype.BoolOID:
		return raw[0] == 1, true
	case pgtype.Float8OID:
		return math.Float64frombits(binary.BigEndian.Uint64(raw)), true
	case pgtype.UUIDOID:
		var u UUID
		copy(u[:], raw)
		return u, true
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		us := int64(binary.BigEndian.Uint64(raw))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return nil, false // infinity
		}
		t := time.UnixMicro(us + pgEpochMicros).UTC()
		if oid == pgtype.TimestampOID {
			return NaiveTime(t), true
		}
		return t, true
	case pgtype.NumericOID:
		return decodeNumeric(raw)
	}
	return nil, false
}

// decodeNumeric turns PostgreSQL's binary numeric (base-10000 digits) into
// its exact decimal text.
func decodeNumeric(raw []byte) (any, bool) {
	if len(raw) < 8 {
		return nil, false
	}
	ndigits := int(binary.BigEndian.Uint16(raw[0:]))
	weight := int(int16(binary.BigEndian.Uint16(raw[2:])))
	sign := binary.BigEndian.Uint16(raw[4:])
	dscale := int(binary.BigEndian.Uint16(raw[6:]))
	if sign == 0xC000 || len(raw) < 8+2*ndigits {
		return nil, false // NaN or malformed
	}
	var buf [64]byte
	b := buf[:0]
	if sign == 0x4000 {
		b = append(b, '-')
	}
	digit := func(i int) int {
		if i < 0 || i >= ndigits {
			return 0
		}
		return int(binary.BigEndian.Uint16(raw[8+2*i:]))
	}
	if weight < 0 {
		b = append(b, '0')
	} else {
		b = strconv.AppendInt(b, int64(digit(0)), 10)
		for i := 1; i <= weight; i++ {
			b = appendPad4(b, digit(i))
		}
	}
	if dscale > 0 {
		b = append(b, '.')
		end := len(b) + dscale
		for i := weight + 1; len(b) < end; i++ {
			b = appendPad4(b, digit(i))
		}
		b = b[:end]
	}
	return Decimal(b), true
}

// appendPad4 appends a base-10000 digit as four decimal digits.
func appendPad4(b []byte, d int) []byte {
	return append(b, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
}

// scaledDecimal parses a decimal text as an integer scaled by 10^scale,
// rounded half away from zero; ok is false when it does not fit or parse
// (the caller then uses exact big arithmetic).
func scaledDecimal(s string, scale int) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	for len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if len(ip)+scale > 17 || ip == "" && fp == "" {
		return 0, false
	}
	var n int64
	for _, c := range ip {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	for i := 0; i < scale; i++ {
		n *= 10
		if i < len(fp) {
			c := fp[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n += int64(c - '0')
		}
	}
	if len(fp) > scale {
		c := fp[scale]
		if c < '0' || c > '9' {
			return 0, false
		}
		if c >= '5' {
			n++
		}
	}
	if neg {
		n = -n
	}
	return n, true
}
