// Package bolt implements store.Store on a single bbolt file, fsyncing every commit.
//
// Updates are serialized; Views run concurrently with each other and with an Update. As
// store.Store requires, a View's fn must not call Update: the commit may need to grow the
// memory map, which waits for every open View, so the two would wait for each other.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/failoverdns/failoverdns/internal/store"
)

// DefaultLockTimeout is how long Open waits for another process to release the data file when
// Options.LockTimeout is zero.
const DefaultLockTimeout = time.Second

// DefaultWatchBuffer is how many events a Watch receiver may fall behind before it gets a Reset
// when Options.WatchBuffer is zero.
const DefaultWatchBuffer = 1024

// Options tunes Open. The zero value is what failoverdns uses.
type Options struct {
	// LockTimeout is how long Open waits for the file lock held by another process before it
	// fails; zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// WatchBuffer is how many events each Watch channel holds; a receiver that falls further
	// behind loses them and gets one Reset event instead. Zero means DefaultWatchBuffer.
	WatchBuffer int
}

// initialMmap is the address space mapped for the file when it opens (on Linux the file itself
// grows only with the data). bbolt maps the file again each time it outgrows the mapping, which
// copies every page the writing transaction has touched out of the old mapping and waits for
// every reader: on a million-record import that was several seconds. A gigabyte of address space
// covers stores of a few million record sets without it.
const initialMmap = 1 << 30

// bulkWrites is the number of writes from which a transaction fills the pages it splits to
// bulkFill rather than bbolt's default half: an import writes its keys in order, and pages left
// half empty would double both the memory the commit takes and the file the server maps.
const (
	bulkWrites = 10_000
	bulkFill   = 0.9
)

// dropAfter is the number of keys a scan reads between two hand-backs of the pages of the file
// to the kernel (dropMapped), and from which a View or Update hands them back when it ends: a
// full read of a million record sets would otherwise keep the whole file resident, for
// nothing, since the DNS path reads none of it, while the snapshot built from it is still
// being compiled. It is handed back during the scan as well, since that read (a build reading a
// zone part by part, an import comparing every stored value) lasts while the memory of the
// work itself is at its height: the file counts in resident memory as the heap does.
const dropAfter = 100_000

// The layout of the file: one bucket of user keys and one of bookkeeping.
var (
	dataBucket = []byte("data")
	metaBucket = []byte("meta")
	// formatKey in metaBucket holds the layout version, formatVersion.
	formatKey     = []byte("format")
	formatVersion = []byte("1")
	// revisionKey in metaBucket holds the revision of the last commit, big-endian uint64.
	revisionKey = []byte("revision")
)

// errTxDone is returned by a Reader or Tx used after its View or Update returned.
var errTxDone = errors.New("store/bolt: transaction used after its View or Update returned")

// Store is a store.Store kept in one bbolt file. Every acknowledged Update has been fsynced,
// and a crash during an Update leaves the file as it was before it. It is safe for concurrent
// use.
type Store struct {
	db          *bbolt.DB
	path        string
	watchBuffer int

	closed atomic.Bool
	rev    atomic.Uint64 // revision of the last commit, for Revision
	// scanned counts the keys scanned by transactions that ended since the file's pages were
	// last handed back to the kernel (ended).
	scanned atomic.Int64

	// writeMu serializes Updates, so that their events can be published in revision order.
	// It is handed over to publishMu after the commit: the next Update may start (and fsync)
	// while the previous one's events are being queued.
	writeMu sync.Mutex
	// publishMu guards watchers and the sends to them; sends never block.
	publishMu sync.Mutex
	watchers  map[*watcher]struct{}
}

var _ store.Store = (*Store)(nil)

// watcher is one Watch receiver.
type watcher struct {
	ch   chan store.Event
	stop func() bool // unregisters the context.AfterFunc that closes ch
}

// Open opens the data file at path, creating the file (not its directory) when it does not
// exist. It fails when another process holds the file for longer than opts.LockTimeout, and
// when the file is not a failoverdns bolt file.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	watchBuffer := opts.WatchBuffer
	if watchBuffer <= 0 {
		watchBuffer = DefaultWatchBuffer
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, InitialMmapSize: initialMmap})
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("store/bolt: open %s: the data file is locked by another process (is another failoverdns running?): %w", path, err)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
			return nil, fmt.Errorf("store/bolt: open %s: not a bolt database, or a damaged one: %w", path, err)
		}
		// The *fs.PathError from os.OpenFile would repeat the path.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	var rev uint64
	err = db.Update(func(tx *bbolt.Tx) error {
		var err error
		rev, err = initialize(tx)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	s := &Store{
		db:          db,
		path:        path,
		watchBuffer: watchBuffer,
		watchers:    make(map[*watcher]struct{}),
	}
	s.rev.Store(rev)
	return s, nil
}

// initialize creates the buckets of a new file, checks those of an existing one, and returns
// the stored revision.
func initialize(tx *bbolt.Tx) (uint64, error) {
	meta := tx.Bucket(metaBucket)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
		if !empty {
			return 0, errors.New("a bolt database, but not a failoverdns data file")
		}
		var err error
		if meta, err = tx.CreateBucket(metaBucket); err != nil {
			return 0, err
		}
		if err := meta.Put(formatKey, formatVersion); err != nil {
			return 0, err
		}
		if _, err := tx.CreateBucket(dataBucket); err != nil {
			return 0, err
		}
	}
	if f := meta.Get(formatKey); !bytes.Equal(f, formatVersion) {
		return 0, fmt.Errorf("data format %q is not supported (want %q)", f, formatVersion)
	}
	if tx.Bucket(dataBucket) == nil {
		return 0, errors.New("damaged data file: no data bucket")
	}
	return readRevision(meta)
}

func readRevision(meta *bbolt.Bucket) (uint64, error) {
	v := meta.Get(revisionKey)
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("damaged data file: revision is %d bytes, want 8", len(v))
}

// enter returns the error a method must return before doing anything.
func (s *Store) enter(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// beginErr turns an error from bbolt's Begin into the one to return.
func beginErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return fmt.Errorf("store/bolt: begin transaction: %w", err)
}

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(store.Reader) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	btx, err := s.db.Begin(false)
	if err != nil {
		return beginErr(err)
	}
	defer func() { _ = btx.Rollback() }()
	seen, err := readRevision(btx.Bucket(metaBucket))
	if err != nil {
		return fmt.Errorf("store/bolt: %w", err)
	}
	r := &reader{data: btx.Bucket(dataBucket), seen: seen, drop: s.dropper(btx)}
	defer func() { r.done = true }()
	err = fn(r)
	s.ended(r)
	return err
}

// Update implements store.Store. It returns once the commit is on disk.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	writing := true
	defer func() {
		if writing {
			s.writeMu.Unlock()
		}
	}()
	btx, err := s.db.Begin(true)
	if err != nil {
		return 0, beginErr(err)
	}
	defer func() { _ = btx.Rollback() }() // a no-op after Commit; undoes everything on error or panic
	meta := btx.Bucket(metaBucket)
	rev, err := readRevision(meta)
	if err != nil {
		return 0, fmt.Errorf("store/bolt: %w", err)
	}
	t := &tx{reader: reader{data: btx.Bucket(dataBucket), seen: rev, drop: s.dropper(btx)}, next: rev + 1}
	err = func() error {
		defer func() { t.done = true }()
		return fn(t)
	}()
	s.ended(&t.reader)
	if err != nil {
		return 0, err
	}
	if len(t.changed) == 0 {
		return rev, nil
	}
	if t.writes >= bulkWrites {
		t.data.FillPercent = bulkFill
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	rev = t.next
	if err := meta.Put(revisionKey, binary.BigEndian.AppendUint64(nil, rev)); err != nil {
		return 0, fmt.Errorf("store/bolt: write revision: %w", err)
	}
	if err := btx.Commit(); err != nil {
		return 0, fmt.Errorf("store/bolt: commit: %w", err)
	}
	s.rev.Store(rev)

	keys := t.changed
	slices.Sort(keys)
	keys = slices.Clip(slices.Compact(keys))
	s.publishMu.Lock()
	s.writeMu.Unlock()
	writing = false
	s.publish(store.Event{Revision: rev, Keys: keys})
	s.publishMu.Unlock()
	return rev, nil
}

// ended hands the file's mapped pages back to the kernel as a View or Update ends, when it
// scanned dropAfter keys, or when the transactions that ended before it did since the last
// hand-back: a long read split into many transactions (a sweep deleting an old copy of a zone
// chunk by chunk) maps the whole file too.
func (s *Store) ended(r *reader) {
	if r.scanned >= dropAfter || s.scanned.Add(int64(r.scanned)) >= dropAfter {
		s.scanned.Store(0)
		r.drop()
	}
}

// dropper returns the func that hands the file's pages mapped for btx back to the kernel. It is
// called only while btx is open, so bbolt cannot map the file elsewhere meanwhile; a write
// transaction never writes through the mapping, nor to a page that it or an open reader reads.
func (s *Store) dropper(btx *bbolt.Tx) func() {
	return func() { dropMapped(s.db.Info().Data, btx.Size()) }
}

// publish queues ev for every watcher without blocking. A watcher whose buffer is full loses
// what it holds and gets a Reset instead. The caller holds publishMu, so publish is the only
// sender on every channel.
func (s *Store) publish(ev store.Event) {
	for w := range s.watchers {
		select {
		case w.ch <- ev:
			continue
		default:
		}
	drain:
		for {
			select {
			case <-w.ch:
			default:
				break drain
			}
		}
		// Room for one is guaranteed: only receives happen concurrently.
		w.ch <- store.Event{Revision: ev.Revision, Reset: true}
	}
}

// Watch implements store.Store.
func (s *Store) Watch(ctx context.Context) <-chan store.Event {
	ch := make(chan store.Event, s.watchBuffer)
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	if s.closed.Load() || ctx.Err() != nil {
		close(ch)
		return ch
	}
	w := &watcher{ch: ch}
	s.watchers[w] = struct{}{}
	w.stop = context.AfterFunc(ctx, func() {
		s.publishMu.Lock()
		defer s.publishMu.Unlock()
		if _, ok := s.watchers[w]; ok {
			delete(s.watchers, w)
			close(w.ch)
		}
	})
	return ch
}

// Revision implements store.Store.
func (s *Store) Revision(ctx context.Context) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	return s.rev.Load(), nil
}

// Close implements store.Store. It waits for running transactions to finish.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	s.publishMu.Lock()
	for w := range s.watchers {
		w.stop()
		close(w.ch)
	}
	clear(s.watchers)
	s.publishMu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store/bolt: close %s: %w", s.path, err)
	}
	return nil
}

// reader is the store.Reader of a View, and the reading half of a tx.
type reader struct {
	data    *bbolt.Bucket
	seen    uint64 // the revision of the last commit before the transaction began
	done    bool   // set when the View or Update returns
	writes  int    // Puts and Deletes so far, so that Scan knows when to reposition
	scanned int    // keys Scan has visited
	drop    func() // hands the pages of the file mapped back to the kernel (Store.dropper)
}

// Seen implements store.Reader.
func (r *reader) Seen() uint64 { return r.seen }

// Get implements store.Reader.
func (r *reader) Get(key string) ([]byte, bool, error) {
	if r.done {
		return nil, false, errTxDone
	}
	// Stored values are never nil (Put stores a copy), so nil means absent.
	v := r.data.Get([]byte(key))
	if v == nil {
		return nil, false, nil
	}
	return bytes.Clone(v), true, nil
}

// Scan implements store.Reader.
func (r *reader) Scan(prefix string, fn func(key string, value []byte) error) error {
	if r.done {
		return errTxDone
	}
	p := []byte(prefix)
	c := r.data.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); {
		if r.scanned++; r.scanned%dropAfter == 0 {
			r.drop()
		}
		key := string(k)
		writes := r.writes
		if err := fn(key, v); err != nil {
			return err
		}
		if r.done {
			return errTxDone
		}
		if r.writes == writes {
			k, v = c.Next()
			continue
		}
		// fn wrote, which may invalidate the cursor (bbolt's rule): find our place again.
		k, v = c.Seek([]byte(key))
		if k != nil && string(k) == key {
			k, v = c.Next()
		}
	}
	return nil
}

// tx is the store.Tx of an Update.
type tx struct {
	reader
	next    uint64   // the revision of this commit, if it writes
	changed []string // keys put or deleted, in the order written: the Event's Keys
}

// Revision implements store.Tx.
func (t *tx) Revision() uint64 { return t.next }

// Put implements store.Tx.
func (t *tx) Put(key string, value []byte) error {
	if t.done {
		return errTxDone
	}
	// bbolt keeps value until the commit, and the caller may reuse it: store a copy, never nil.
	if err := t.data.Put([]byte(key), append(make([]byte, 0, len(value)), value...)); err != nil {
		return fmt.Errorf("store/bolt: put %q: %w", key, err)
	}
	t.wrote(key)
	return nil
}

// Delete implements store.Tx.
func (t *tx) Delete(key string) error {
	if t.done {
		return errTxDone
	}
	k := []byte(key)
	if t.data.Get(k) == nil {
		return nil // absent: not a write
	}
	if err := t.data.Delete(k); err != nil {
		return fmt.Errorf("store/bolt: delete %q: %w", key, err)
	}
	t.wrote(key)
	return nil
}

func (t *tx) wrote(key string) {
	t.changed = append(t.changed, key)
	t.writes++
}
