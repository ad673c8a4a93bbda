package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
)

// Event kinds.
const (
	// EventHealth is a health check changing state.
	EventHealth = "health"
	// EventAnswer is the answer served for a routed name changing.
	EventAnswer = "answer"
)

// MaxEvents is how many events the store keeps; older ones are pruned.
const MaxEvents = 10000

// Event is one recorded happening: a health transition or a change of the answer for a name.
type Event struct {
	// Seq orders events; later events have larger numbers.
	Seq uint64 `json:"Seq"`
	// Time is when it happened.
	Time time.Time `json:"Time"`
	// Kind is EventHealth or EventAnswer.
	Kind string `json:"Kind"`
	// Subject is the health check id, or the name and type ("www.example.com. A").
	Subject string `json:"Subject"`
	// Before and After describe the state before and after ("healthy", "unhealthy", or an answer).
	Before string `json:"Before"`
	After  string `json:"After"`
	// Cause is what kind of thing caused it ("probe", "forced", "health", "records", ...).
	Cause string `json:"Cause,omitempty"`
	// Reason says why in words.
	Reason string `json:"Reason,omitempty"`
}

const eventPrefix = "event/"

func eventKey(seq uint64) string { return fmt.Sprintf("%s%020d", eventPrefix, seq) }

// RecordEvents stores events (their Seq is assigned here) and prunes the oldest beyond MaxEvents.
func (s *Service) RecordEvents(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	var last uint64
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		base := tx.Revision() << 16
		for i := range evs {
			evs[i].Seq = base + uint64(i)
			if err := putJSON(tx, eventKey(evs[i].Seq), evs[i]); err != nil {
				return err
			}
		}
		last = evs[len(evs)-1].Seq
		return pruneEvents(tx, last)
	})
	if err != nil {
		return fmt.Errorf("service: record events: %w", err)
	}
	s.events.set(last)
	return nil
}

// pruneEvents deletes the oldest events while more than MaxEvents are kept. It runs only when the
// newest sequence number crosses a multiple of 1024 commits, so most writes scan nothing.
func pruneEvents(tx store.Tx, newest uint64) error {
	if (newest>>16)%1024 != 0 {
		return nil
	}
	var keys []string
	if err := tx.Scan(eventPrefix, func(k string, _ []byte) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys[:max(0, len(keys)-MaxEvents)] {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Events returns up to limit events with Seq greater than after, oldest first. With wait set and
// no such event yet, it waits until one is recorded or ctx ends.
func (s *Service) Events(ctx context.Context, after uint64, limit int, wait bool) ([]Event, error) {
	for {
		var out []Event
		err := s.st.View(ctx, func(r store.Reader) error {
			return r.Scan(eventPrefix, func(k string, v []byte) error {
				seq, err := strconv.ParseUint(k[len(eventPrefix):], 10, 64)
				if err != nil || seq <= after || len(out) >= limit {
					return nil
				}
				var ev Event
				if err := decodeJSON(k, v, &ev); err != nil {
					return err
				}
				out = append(out, ev)
				return nil
			})
		})
		if err != nil || len(out) > 0 || !wait {
			return out, wrapStore("read events", err)
		}
		if !s.events.wait(ctx, after+1) {
			return nil, nil
		}
	}
}
