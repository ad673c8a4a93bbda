package zone

import (
	"slices"
	"strings"
)

// Less reports whether a sorts before b in Route 53's listing order: by name with its labels
// reversed ("www.example.com." sorts as "com.example.www.", so "a-b" comes before "a"), then by
// type, then by set identifier (a record set without one comes first).
func Less(a, b RecordSet) bool {
	return CompareKeys(a.Key(), b.Key()) < 0
}

// CompareKeys orders keys as Less orders record sets.
func CompareKeys(a, b Key) int {
	if c := CompareNames(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return strings.Compare(a.SetIdentifier, b.SetIdentifier)
}

// CompareNames orders canonical names as Route 53 lists them (labels reversed): -1, 0 or +1, as
// the strings "label_n.….label_1." (labels reversed, each followed by a dot) compare bytewise,
// without building those strings.
func CompareNames(a, b string) int {
	if a == b {
		return 0
	}
	ea, eb := trimDot(a), trimDot(b)
	for {
		if ea < 0 || eb < 0 {
			// A name out of labels is a prefix of the other.
			switch {
			case ea < 0 && eb < 0:
				return 0
			case ea < 0:
				return -1
			default:
				return 1
			}
		}
		sa, sb := labelStart(a, ea), labelStart(b, eb)
		la, lb := a[sa:ea], b[sb:eb]
		if la != lb {
			n := min(len(la), len(lb))
			if c := strings.Compare(la[:n], lb[:n]); c != 0 {
				return c
			}
			// One label is a prefix of the other: the shorter one continues with '.'.
			if len(la) < len(lb) {
				return cmpByte('.', lb[n])
			}
			return cmpByte(la[n], '.')
		}
		ea, eb = sa-1, sb-1
	}
}

func cmpByte(x, y byte) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	// Only an escaped dot can get here; any fixed answer keeps the order total.
	return -1
}

// trimDot returns the end of the last label of a canonical name (the index of its final
// dot), or -1 for the root.
func trimDot(name string) int {
	if name == "." || name == "" {
		return -1
	}
	if name[len(name)-1] == '.' && !escapedAt(name, len(name)-1) {
		return len(name) - 1
	}
	return len(name)
}

// labelStart returns where the label that ends at end begins.
func labelStart(name string, end int) int {
	for i := end - 1; i >= 0; i-- {
		if name[i] == '.' && !escapedAt(name, i) {
			return i + 1
		}
	}
	return 0
}

// escapedAt reports whether the byte at i is escaped (preceded by an odd run of backslashes).
func escapedAt(name string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && name[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// sortKey returns the string that orders names as CompareNames does: labels reversed, each
// followed by a dot.
func sortKey(name string) string {
	ls := labels(name)
	var b strings.Builder
	b.Grow(len(name) + 1)
	for i := len(ls) - 1; i >= 0; i-- {
		b.WriteString(ls[i])
		b.WriteByte('.')
	}
	return b.String()
}

// sortRecordSets sorts sets in Less order, computing each name's sort key once.
func sortRecordSets(sets []RecordSet) { sortByKey(sets, (*RecordSet).Key) }

// SortKeys sorts keys in Less order, computing each name's sort key once.
func SortKeys(keys []Key) { sortByKey(keys, func(k *Key) Key { return *k }) }

// sortByKey sorts xs in Less order of their keys, computing each name's sort key once.
func sortByKey[T any](xs []T, key func(*T) Key) {
	if slices.IsSortedFunc(xs, func(a, b T) int { return CompareKeys(key(&a), key(&b)) }) {
		return
	}
	type item struct {
		name string // sortKey of the name
		x    T
	}
	items := make([]item, len(xs))
	for i := range xs {
		items[i] = item{sortKey(key(&xs[i]).Name), xs[i]}
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		ka, kb := key(&a.x), key(&b.x)
		if c := strings.Compare(ka.Type, kb.Type); c != 0 {
			return c
		}
		return strings.Compare(ka.SetIdentifier, kb.SetIdentifier)
	})
	for i := range items {
		xs[i] = items[i].x
	}
}

// Find returns the index of the record set with key k in z.RecordSets and true, or the index
// where it would be inserted and false. z.RecordSets must be in Less order.
func (z *Zone) Find(k Key) (int, bool) {
	return slices.BinarySearchFunc(z.RecordSets, k, func(rs RecordSet, k Key) int {
		return CompareKeys(rs.Key(), k)
	})
}

// nameRange returns the half-open index range of the record sets named name.
func (z *Zone) nameRange(name string) (int, int) {
	lo, _ := slices.BinarySearchFunc(z.RecordSets, name, func(rs RecordSet, n string) int {
		if c := CompareNames(rs.Name, n); c != 0 {
			return c
		}
		return 1 // every set named n sorts after the probe
	})
	hi := lo
	for hi < len(z.RecordSets) && z.RecordSets[hi].Name == name {
		hi++
	}
	return lo, hi
}
