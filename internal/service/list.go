package service

import (
	"context"

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
func (s *Service) ListRecordSets(ctx context.Context, ref string, start zone.Key, max int) (RecordSetPage, error) {
	z, err := s.Zone(ctx, ref)
	if err != nil {
		return RecordSetPage{}, err
	}
	i := 0
	if start.Name != "" {
		i, _ = z.Find(start)
	}
	end := min(len(z.RecordSets), i+max)
	page := RecordSetPage{RecordSets: z.RecordSets[i:end]}
	if end < len(z.RecordSets) {
		k := z.RecordSets[end].Key()
		page.Next = &k
	}
	return page, nil
}
