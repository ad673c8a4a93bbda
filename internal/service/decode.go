package service

import (
	"bytes"
	"unicode/utf8"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// decodeSet decodes the stored value of a record set into rs, which must be zero. The value
// json.Marshal writes for a simple record set (name, type, TTL and values, no character
// escaped) is read directly, several times faster than by encoding/json, which reads any other:
// a full build reads every record set of the store.
func decodeSet(key string, b []byte, rs *zone.RecordSet) error {
	if decodeSimple(b, rs) {
		return nil
	}
	*rs = zone.RecordSet{}
	return decodeJSON(key, b, rs)
}

// decodeSimple reads b as exactly
//
//	{"Name":"…","Type":"…","TTL":123,"ResourceRecords":[{"Value":"…"},…]}
//
// with no backslash in a string, and reports whether it did.
func decodeSimple(b []byte, rs *zone.RecordSet) bool {
	var ok bool
	if b, ok = bytes.CutPrefix(b, []byte(`{"Name":"`)); !ok {
		return false
	}
	var name, typ []byte
	if name, b, ok = cutString(b); !ok {
		return false
	}
	if b, ok = bytes.CutPrefix(b, []byte(`,"Type":"`)); !ok {
		return false
	}
	if typ, b, ok = cutString(b); !ok {
		return false
	}
	if b, ok = bytes.CutPrefix(b, []byte(`,"TTL":`)); !ok {
		return false
	}
	var ttl int64
	end := 0
	for ; end < len(b) && '0' <= b[end] && b[end] <= '9'; end++ {
		ttl = ttl*10 + int64(b[end]-'0')
	}
	if end == 0 || end > 18 || (end > 1 && b[0] == '0') { // 18 digits cannot overflow
		return false
	}
	if b, ok = bytes.CutPrefix(b[end:], []byte(`,"ResourceRecords":[`)); !ok {
		return false
	}
	values := make([]zone.ResourceRecord, 0, 1)
	for {
		var v []byte
		if b, ok = bytes.CutPrefix(b, []byte(`{"Value":"`)); !ok {
			return false
		}
		if v, b, ok = cutString(b); !ok {
			return false
		}
		if b, ok = bytes.CutPrefix(b, []byte(`}`)); !ok {
			return false
		}
		values = append(values, zone.ResourceRecord{Value: string(v)})
		if b, ok = bytes.CutPrefix(b, []byte(`,`)); !ok {
			break
		}
	}
	if string(b) != `]}` {
		return false
	}
	*rs = zone.RecordSet{Name: string(name), Type: typeName(typ), TTL: &ttl, ResourceRecords: values}
	return true
}

// cutString returns the bytes of b up to the next double quote and what follows that quote;
// false when there is none, or a backslash or control character comes first (an escape), or
// the bytes are not UTF-8 (encoding/json would replace some): values json.Marshal did not write.
func cutString(b []byte) (s, rest []byte, ok bool) {
	ascii := true
	for i, c := range b {
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(b[:i]) {
				return nil, nil, false
			}
			return b[:i], b[i+1:], true
		case c == '\\' || c < 0x20:
			return nil, nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, nil, false
}

// typeName returns t as a string, without allocating for the types record sets usually have.
func typeName(t []byte) string {
	for _, n := range zone.Types {
		if string(t) == n { // compared without allocating
			return n
		}
	}
	return string(t)
}
