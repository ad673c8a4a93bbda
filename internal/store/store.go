// Package store defines the transactional key-value Store that holds all of failoverdns's state,
// and the change events it publishes; backends live in subpackages (store/bolt, later store/etcd).
package store

import (
	"context"
	"errors"
)

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("store: closed")

// Store is an ordered key-value store with atomic multi-key transactions and change notification.
// Keys are non-empty strings ordered bytewise; values are opaque bytes (possibly empty). Every
// committed Update that writes gets a revision exactly one higher than the previous one.
//
// Methods that take a context return its error, and do nothing, when it has already ended. A
// Store is safe for concurrent use; the conformance suite every backend passes is
// store/storetest.
type Store interface {
	// View runs fn with a consistent read-only view of the store and returns fn's error. The
	// Reader is valid only while fn runs. fn must not call Update (a backend may deadlock).
	View(ctx context.Context, fn func(Reader) error) error
	// Update runs fn in a read-write transaction and commits it atomically when fn returns nil;
	// when fn returns an error nothing is written and that error is returned. fn may be run more
	// than once (an optimistic backend retries on conflict), so it must have no other side effects.
	// It returns the revision of the commit (the current revision when fn wrote nothing).
	// An Update writes when fn calls Put, or Delete on a present key; one that writes nothing
	// commits nothing, does not bump the revision and publishes no Event. If fn panics nothing
	// is written, the panic propagates and the store stays usable. The Tx is valid only while
	// fn runs, and fn must not call Update.
	Update(ctx context.Context, fn func(Tx) error) (rev uint64, err error)
	// Watch delivers an Event for every commit after the call, in revision order, until ctx ends
	// (then the channel is closed). A slow receiver is never skipped silently: when it falls too
	// far behind it receives one Event with Reset set, after which it must reread what it needs.
	// Update never blocks on a Watch receiver. After Close the channel is closed.
	Watch(ctx context.Context) <-chan Event
	// Revision returns the revision of the last commit (0 for an empty store).
	Revision(ctx context.Context) (uint64, error)
	// Close releases the store; pending Watch channels are closed. Calling it again returns
	// ErrClosed.
	Close() error
}

// Reader reads within a transaction.
type Reader interface {
	// Get returns the value of key, and false when it is absent. The value is the caller's to
	// keep and modify.
	Get(key string) ([]byte, bool, error)
	// Scan calls fn for every key with the given prefix, in key order, until fn returns an error
	// (which Scan returns). The value must not be kept after fn returns. Within a Tx, fn may Put
	// and Delete (for example delete every key it is passed); the scan then continues with the
	// first key after the current one.
	Scan(prefix string, fn func(key string, value []byte) error) error
	// Seen returns the revision of the last commit before the transaction began: what it reads
	// is the state of that revision (and, in a Tx, its own writes).
	Seen() uint64
}

// Tx reads and writes within a read-write transaction.
type Tx interface {
	Reader
	// Put sets key to value; key must not be empty. The caller may reuse value once Put
	// returns.
	Put(key string, value []byte) error
	// Delete removes key; deleting an absent key is not an error and does not count as a write.
	Delete(key string) error
	// Revision returns the revision this transaction's commit will have if it writes anything
	// (the current revision + 1), so that records written in it can name their own revision.
	Revision() uint64
}

// Event describes one commit (or, with Reset, that the receiver missed some).
type Event struct {
	// Revision is the revision of the commit.
	Revision uint64
	// Keys are the keys the commit put or deleted, sorted and without duplicates. The slice may
	// be shared with other receivers and must not be modified.
	Keys []string
	// Reset means events were dropped before this one: reread everything. A Reset event carries
	// the latest revision and no Keys.
	Reset bool
}
