package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// RecordSetPage is one page of a zone's record sets in Route 53's listing order.
type RecordSetPage struct {
	RecordSets []zone.RecordSet
	// Next is the key of the first record set of the next page, or nil on the last page.
	Next *zone.Key
}

// ListRecordSets returns up to max record sets of the zone named by ref, starting at the first
// set whose key is not before start (Route 53's StartRecordName, StartRecordType and
// StartRecordIdentifier; empty fields sort first). start.Name must be canonical or empty.
//
// The store keeps a zone's record sets in another order than the listing's, so the first page
// reads every key of the zone; the order is kept (listOrder) for the pages that follow while
// nothing is committed, and a page reads only its own record sets.
func (s *Service) ListRecordSets(ctx context.Context, ref string, start zone.Key, max int) (RecordSetPage, error) {
	var page RecordSetPage
	err := s.st.View(ctx, func(r store.Reader) error {
		m, err := resolveZone(r, ref)
		if err != nil {
			return err
		}
		space := m.space()
		keys, err := s.lists.order(r, space)
		if err != nil {
			return err
		}
		i := 0
		if start.Name != "" {
			i, _ = slices.BinarySearchFunc(keys, start, zone.CompareKeys)
		}
		end := min(len(keys), i+max)
		page.RecordSets = make([]zone.RecordSet, end-i)
		for j, k := range keys[i:end] {
			key := recordKey(space, k)
			v, ok, err := r.Get(key)
			if err != nil {
				return err
			}
			if !ok { // the keys are those of this very revision
				return fmt.Errorf("%s is listed but absent", key)
			}
			if err := decodeSet(key, v, &page.RecordSets[j]); err != nil {
				return err
			}
		}
		if end < len(keys) {
			k := keys[end]
			page.Next = &k
		}
		return nil
	})
	if err != nil {
		return RecordSetPage{}, wrapStore("list record sets", err)
	}
	return page, nil
}

// listKeep is how long a listing order is kept after its last use.
const listKeep = time.Minute

// listOrder keeps the keys of the record space listed last in listing order, with the revision
// they were read at, so that the pages of a listing (the aws CLI asks for 300 record sets at a
// time) read and sort the keys once, not once a page: a page of a 1,000,000-set zone read the
// whole zone. One space is kept, dropped after listKeep unused (about 80 MB per million sets).
type listOrder struct {
	mu    sync.Mutex
	space string
	rev   uint64
	keys  []zone.Key
	drop  *time.Timer
}

// order returns the keys of space as r sees them, in listing order.
func (l *listOrder) order(r store.Reader, space string) ([]zone.Key, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys != nil && l.space == space && l.rev == r.Seen() {
		l.drop.Reset(listKeep)
		return l.keys, nil
	}
	l.keys = nil // the old order is garbage while the new one is read
	prefix := recordPrefix(space)
	var keys []zone.Key
	err := r.Scan(prefix, func(k string, _ []byte) error {
		name, rest, ok1 := strings.Cut(k[len(prefix):], "\x00") // substrings of k: one string per key
		typ, id, ok2 := strings.Cut(rest, "\x00")
		if !ok1 || !ok2 {
			return fmt.Errorf("record set key %q is malformed", k)
		}
		keys = append(keys, zone.Key{Name: name, Type: typ, SetIdentifier: id})
		return nil
	})
	if err != nil {
		return nil, err
	}
	zone.SortKeys(keys)
	if keys == nil {
		keys = []zone.Key{}
	}
	l.space, l.rev, l.keys = space, r.Seen(), keys
	if l.drop == nil {
		l.drop = time.AfterFunc(listKeep, l.forget)
	} else {
		l.drop.Reset(listKeep)
	}
	return keys, nil
}

// forget drops the kept order.
func (l *listOrder) forget() {
	l.mu.Lock()
	l.keys = nil
	l.mu.Unlock()
}
