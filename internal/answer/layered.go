package answer

import (
	"iter"
	"maps"
)

// layered is an immutable map that a patch copies cheaply: a large base map shared by every
// snapshot since the last compaction, and a small overlay of the entries changed since then
// (including deletions). A patch copies the overlay only; when the overlay grows past a share of
// the base, the patch merges the two into a new base. A lookup costs one more map probe while
// the overlay is not empty.
type layered[K comparable, V any] struct {
	base map[K]V
	over map[K]slot[V]
}

// slot is an overlay entry: a value, or a deletion when ok is false.
type slot[V any] struct {
	v  V
	ok bool
}

// compactAt is the overlay size past which a patch merges the overlay into the base: an eighth
// of the base, so that the copying a merge costs stays proportional to the changes since the
// last one, and at least minOverlay entries, so that small maps are not copied on every patch.
const minOverlay = 4096

func (m *layered[K, V]) get(k K) (V, bool) {
	if len(m.over) > 0 {
		if e, hit := m.over[k]; hit {
			return e.v, e.ok
		}
	}
	v, ok := m.base[k]
	return v, ok
}

// all returns every present entry, in no particular order.
func (m *layered[K, V]) all() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for k, v := range m.base {
			if _, hit := m.over[k]; hit {
				continue
			}
			if !yield(k, v) {
				return
			}
		}
		for k, e := range m.over {
			if e.ok && !yield(k, e.v) {
				return
			}
		}
	}
}

// with returns m with changes applied (a slot with ok false deletes its key); m is unchanged.
func (m *layered[K, V]) with(changes map[K]slot[V]) layered[K, V] {
	if len(changes) == 0 {
		return *m
	}
	over := maps.Clone(m.over) // copies the table as it is, much faster than inserting anew
	if over == nil {
		over = make(map[K]slot[V], len(changes))
	}
	for k, e := range changes {
		if _, inBase := m.base[k]; !e.ok && !inBase {
			delete(over, k) // the base lacks k: no tombstone needed, the overlay stays small
			continue
		}
		over[k] = e
	}
	if len(over) <= max(minOverlay, len(m.base)/8) {
		return layered[K, V]{base: m.base, over: over}
	}
	base := maps.Clone(m.base)
	for k, e := range over {
		if e.ok {
			base[k] = e.v
		} else {
			delete(base, k)
		}
	}
	return layered[K, V]{base: base}
}
