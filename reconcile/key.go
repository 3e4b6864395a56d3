package reconcile

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Key is an encoded key: its byte order is the typed order of its columns
// (integers and timestamps by value, text by UTF-8 bytes, uuids by their 16
// bytes), whatever engine it came from.
type Key []byte

// Compare orders keys.
func (k Key) Compare(o Key) int { return bytes.Compare(k, o) }

// encodeKey encodes typed key values (see keyValue) for cols.
func encodeKey(buf []byte, cols []KeyColumn, vals []any) (Key, error) {
	for i, c := range cols {
		if n, ok := vals[i].(int64); ok && c.Type == KeyInt { // the common case, without boxing
			buf = binary.BigEndian.AppendUint64(buf, uint64(n)^(1<<63))
			continue
		}
		v, err := keyValue(c.Type, vals[i])
		if err != nil {
			return nil, fmt.Errorf("key column %s: %w", c.Name, err)
		}
		switch c.Type {
		case KeyInt, KeyTimestamp:
			buf = binary.BigEndian.AppendUint64(buf, uint64(v.(int64))^(1<<63))
		case KeyUUID:
			u := v.([16]byte)
			buf = append(buf, u[:]...)
		case KeyText:
			s := v.(string)
			for j := 0; j < len(s); j++ {
				if s[j] == 0 {
					buf = append(buf, 0, 0xff)
				} else {
					buf = append(buf, s[j])
				}
			}
			buf = append(buf, 0, 1)
		}
	}
	return buf, nil
}

// keyValue converts a raw value to the canonical Go value of a key type:
// int64 (int; timestamp as µs since the epoch), string (text), [16]byte (uuid).
func keyValue(t KeyType, v any) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("NULL key")
	}
	switch t {
	case KeyInt:
		return toInt64(v)
	case KeyText:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return fmt.Sprint(v), nil
	case KeyUUID:
		return toUUID(v)
	case KeyTimestamp:
		switch v.(type) {
		case int64, json.Number:
			return toInt64(v)
		}
		tm, err := toTime(v, time.UTC)
		if err != nil {
			return nil, err
		}
		return tm.UnixMicro(), nil
	}
	return nil, fmt.Errorf("unknown key type %q", t)
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case Decimal:
		return strconv.ParseInt(string(x), 10, 64)
	case json.Number:
		return x.Int64()
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
}

func toUUID(v any) ([16]byte, error) {
	var u [16]byte
	switch x := v.(type) {
	case [16]byte:
		return x, nil
	case UUID:
		return x, nil
	case primitive.Binary:
		if len(x.Data) == 16 {
			copy(u[:], x.Data)
			return u, nil
		}
	case string:
		h := strings.ReplaceAll(strings.TrimSpace(x), "-", "")
		if len(h) == 32 {
			if _, err := hex.Decode(u[:], []byte(h)); err == nil {
				return u, nil
			}
		}
	}
	return u, fmt.Errorf("%v is not a uuid", v)
}

// UUID is a uuid read from a source; it prints in lowercase canonical form.
type UUID [16]byte

func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// MarshalText prints the canonical form.
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// Decimal is an exact decimal read from a source (PostgreSQL numeric,
// MongoDB Decimal128), kept as its text.
type Decimal string

// NaiveTime is a timestamp without time zone; its zone comes from the rule.
type NaiveTime time.Time

// MarshalText prints it without a zone.
func (t NaiveTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).Format("2006-01-02T15:04:05.999999")), nil
}

func toTime(v any, loc *time.Location) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case NaiveTime:
		t := time.Time(x)
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC(), nil
	case primitive.DateTime:
		return x.Time().UTC(), nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), nil
			}
		}
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, x, loc); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%v is not a timestamp", v)
}

// keyString renders key values for reports: "a" or "(a, b)".
func keyString(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = displayString(v)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func displayString(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case [16]byte:
		return UUID(x).String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case NaiveTime:
		b, _ := x.MarshalText()
		return string(b)
	case primitive.Binary:
		if u, err := toUUID(x); err == nil {
			return UUID(u).String()
		}
	case primitive.DateTime:
		return x.Time().UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}
