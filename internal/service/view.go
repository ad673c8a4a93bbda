package service

import (
	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// txView is the zone.View of one zone within a transaction: it reads the record sets of a name
// with one prefix scan when Plan first asks, and remembers them, so that the commit can tell
// which keys of the diff exist without reading them again.
type txView struct {
	r    store.Reader
	m    zoneMeta
	read map[string][]zone.RecordSet // name -> its record sets, for every name read
}

func newTxView(r store.Reader, m zoneMeta) *txView {
	return &txView{r: r, m: m, read: make(map[string][]zone.RecordSet)}
}

func (v *txView) ID() string   { return v.m.ID }
func (v *txView) Name() string { return v.m.Name }

func (v *txView) At(name string) ([]zone.RecordSet, error) {
	if sets, ok := v.read[name]; ok {
		return sets, nil
	}
	sets, err := readAt(v.r, v.m.space(), name, nil)
	if err != nil {
		return nil, err
	}
	v.read[name] = sets
	return sets, nil
}

// exists reports whether the zone holds a record set with key k, as the transaction read it
// before writing.
func (v *txView) exists(k zone.Key) (bool, error) {
	if sets, ok := v.read[k.Name]; ok {
		for _, rs := range sets {
			if rs.Key() == k {
				return true, nil
			}
		}
		return false, nil
	}
	_, ok, err := v.r.Get(recordKey(v.m.space(), k))
	return ok, err
}
