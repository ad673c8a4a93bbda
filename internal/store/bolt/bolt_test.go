package bolt_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
	"github.com/failoverdns/failoverdns/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	})
}

// open opens path and closes the store when the test ends.
func open(t *testing.T, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func put(t *testing.T, s store.Store, kv ...string) uint64 {
	t.Helper()
	rev, err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

// dump returns every key and value, as "k=v".
func dump(t *testing.T, s store.Store) []string {
	t.Helper()
	var out []string
	err := s.View(t.Context(), func(r store.Reader) error {
		return r.Scan("", func(k string, v []byte) error {
			out = append(out, k+"="+string(v))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return out
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path, bolt.Options{})
	put(t, s, "a", "1", "b", "2")
	put(t, s, "c", "3")
	if _, err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Delete("b") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path, bolt.Options{})
	if got, want := strings.Join(dump(t, s), " "), "a=1 c=3"; got != want {
		t.Errorf("after reopen: %s, want %s", got, want)
	}
	if rev, err := s.Revision(t.Context()); err != nil || rev != 3 {
		t.Errorf("Revision after reopen = %d, %v; want 3", rev, err)
	}
	if rev := put(t, s, "d", "4"); rev != 4 {
		t.Errorf("first Update after reopen: revision %d, want 4", rev)
	}
}

func TestFailedUpdateLeavesNothingAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path, bolt.Options{})
	put(t, s, "keep", "1")
	errAbort := errors.New("abort")
	_, err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range 5000 { // enough to allocate pages, not just touch one
			if err := tx.Put(fmt.Sprintf("junk/%05d", i), make([]byte, 100)); err != nil {
				return err
			}
		}
		if err := tx.Delete("keep"); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("Update = %v, want errAbort", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, bolt.Options{})
	if got := strings.Join(dump(t, s), " "); got != "keep=1" {
		t.Errorf("after reopen: %s, want keep=1", got)
	}
	if rev, _ := s.Revision(t.Context()); rev != 1 {
		t.Errorf("Revision after reopen = %d, want 1", rev)
	}
}

// TestKillWriter kills a process in the middle of a stream of large commits and checks that
// the file holds exactly the last commit, each time.
func TestKillWriter(t *testing.T) {
	if path := os.Getenv("STORE_BOLT_TEST_WRITER"); path != "" {
		runWriter(path)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "store.db")
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillWriter$")
		cmd.Env = append(os.Environ(), "STORE_BOLT_TEST_WRITER="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the child's first commit, then kill it at a varying point of the next ones.
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
			t.Fatalf("round %d: writer did not start: %v", round, err)
		}
		time.Sleep(time.Duration(round*round*2+1) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()

		s, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		rev, err := s.Revision(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := strconv.FormatUint(rev, 10)
		n := 0
		err = s.View(t.Context(), func(r store.Reader) error {
			return r.Scan("", func(k string, v []byte) error {
				n++
				if gen, _, _ := strings.Cut(string(v), ":"); gen != want {
					return fmt.Errorf("key %s holds generation %s, want %s (the revision): a torn commit", k, gen, want)
				}
				return nil
			})
		})
		if err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		if n != writerKeys {
			t.Errorf("round %d: %d keys, want %d", round, n, writerKeys)
		}
		t.Logf("round %d: killed at revision %d", round, rev)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// writerKeys is how many keys each of runWriter's commits rewrites.
const writerKeys = 2000

// runWriter is the child process of TestKillWriter: it rewrites every key with the next
// revision number, commit after commit, until it is killed.
func runWriter(path string) {
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		rev, _ := s.Revision(context.Background())
		value := []byte(strconv.FormatUint(rev+1, 10) + ":" + strings.Repeat("x", 200))
		_, err := s.Update(context.Background(), func(tx store.Tx) error {
			for k := range writerKeys {
				if err := tx.Put(fmt.Sprintf("key/%05d", k), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("just some text, and long enough to hold a bolt header, if it were one.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(dir, "tiny")
	if err := os.WriteFile(tiny, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bbolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("other app")); return err }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		path   string
		is     error  // the cause errors.Is must find, if any
		substr string // a phrase the message must contain, if any
	}{
		{"missing directory", filepath.Join(dir, "nope", "store.db"), fs.ErrNotExist, ""},
		{"parent is a file", filepath.Join(file, "store.db"), syscall.ENOTDIR, ""},
		{"path is a directory", dir, syscall.EISDIR, ""},
		{"not a bolt file", file, berrors.ErrInvalid, "not a bolt database"},
		{"one-byte file", tiny, nil, ""},
		{"another program's bolt file", foreign, nil, "not a failoverdns data file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := bolt.Open(tt.path, bolt.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", tt.path)
			}
			t.Log(err)
			if prefix := "store/bolt: open " + tt.path + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q does not say %q", err, tt.substr)
			}
		})
	}
}

func TestOpenReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
	_, err := bolt.Open(filepath.Join(ro, "store.db"), bolt.Options{})
	if !errors.Is(err, fs.ErrPermission) || !strings.HasPrefix(err.Error(), "store/bolt: open ") {
		t.Errorf("Open in a read-only directory = %v, want a store/bolt: open error wrapping fs.ErrPermission", err)
	}

	file := filepath.Join(dir, "store.db")
	s := open(t, file, bolt.Options{})
	s.Close()
	if err := os.Chmod(file, 0o400); err != nil {
		t.Fatal(err)
	}
	_, err = bolt.Open(file, bolt.Options{})
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Open of a read-only file = %v, want an error wrapping fs.ErrPermission", err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path, bolt.Options{})
	start := time.Now()
	// bbolt locks with flock, which conflicts between two opens even in one process.
	_, err := bolt.Open(path, bolt.Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("second Open of a file in use succeeded")
	}
	t.Log(err)
	if !strings.HasPrefix(err.Error(), "store/bolt: open "+path+": ") || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("error %q does not say the file is locked", err)
	}
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("error %q does not wrap bbolt's ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v", d)
	}
	// Once the holder closes, the file opens.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, path, bolt.Options{LockTimeout: 100 * time.Millisecond})
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	open(t, path, bolt.Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("data file mode %v, want no access for group and others", perm)
	}
}

func TestUseAfterReturn(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	put(t, s, "k", "v")
	var r store.Reader
	if err := s.View(t.Context(), func(rr store.Reader) error { r = rr; return nil }); err != nil {
		t.Fatal(err)
	}
	var tx store.Tx
	if _, err := s.Update(t.Context(), func(tt store.Tx) error { tx = tt; return nil }); err != nil {
		t.Fatal(err)
	}
	// Grow the file so that a stale pointer into the old mapping would fault.
	for i := range 20 {
		put(t, s, fmt.Sprintf("big/%d", i), strings.Repeat("x", 1<<16))
	}
	if _, _, err := r.Get("k"); err == nil {
		t.Error("Reader.Get after View returned: no error")
	}
	if err := r.Scan("", func(string, []byte) error { return nil }); err == nil {
		t.Error("Reader.Scan after View returned: no error")
	}
	if err := tx.Put("k", nil); err == nil {
		t.Error("Tx.Put after Update returned: no error")
	}
	if err := tx.Delete("k"); err == nil {
		t.Error("Tx.Delete after Update returned: no error")
	}
}

func TestWatchBufferOverflow(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "store.db"), bolt.Options{WatchBuffer: 4})
	w := s.Watch(t.Context())
	for i := range 6 {
		put(t, s, strconv.Itoa(i), "")
	}
	// Revisions 1-4 filled the buffer; 5 overflowed it (dropping 1-4 for a Reset at 5);
	// 6 queued behind the Reset.
	want := []store.Event{{Revision: 5, Reset: true}, {Revision: 6, Keys: []string{"5"}}}
	for _, we := range want {
		select {
		case ev := <-w:
			if ev.Revision != we.Revision || ev.Reset != we.Reset || strings.Join(ev.Keys, ",") != strings.Join(we.Keys, ",") {
				t.Errorf("event %+v, want %+v", ev, we)
			}
		default:
			t.Fatalf("no event, want %+v", we)
		}
	}
	select {
	case ev := <-w:
		t.Errorf("extra event %+v", ev)
	default:
	}
}

func TestCloseWaitsForUpdate(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	inside, release := make(chan struct{}), make(chan struct{})
	result := make(chan error, 1)
	go func() {
		_, err := s.Update(context.Background(), func(tx store.Tx) error {
			close(inside)
			<-release
			return tx.Put("k", []byte("v"))
		})
		result <- err
	}()
	<-inside
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-result; err != nil {
		t.Errorf("Update running during Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestLargeWrites: a transaction of many writes (its pages filled further) and a scan of them
// all (after which the mapped pages are handed back to the kernel) leave every key readable,
// and writable again in small transactions.
func TestLargeWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	const n = 120_000
	key := func(i int) string { return fmt.Sprintf("k/%07d", i) }
	if _, err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range n {
			if err := tx.Put(key(i), []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	scan := func() {
		t.Helper()
		i := 0
		err := s.View(t.Context(), func(r store.Reader) error {
			return r.Scan("k/", func(k string, v []byte) error {
				if k != key(i) || string(v) != strconv.Itoa(i) {
					return fmt.Errorf("key %d: %q = %q", i, k, v)
				}
				i++
				return nil
			})
		})
		if err != nil || i != n {
			t.Fatalf("scan: %v after %d keys, want %d", err, i, n)
		}
	}
	scan()
	scan()
	for i := 0; i < n; i += n / 10 {
		put(t, s, key(i), strconv.Itoa(i))
	}
	scan()
}

// TestDropMapped: scans and writes long enough to hand the mapped file back to the kernel while
// they run, and after them, read and write what they should: a View checking every value, an
// Update checking every value as it rewrites it, and a View after that commit.
func TestDropMapped(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	ctx := context.Background()
	const n = 210_000 // past two multiples of the drop interval
	value := func(i, gen int) []byte { return fmt.Appendf(nil, "value %d of generation %d", i, gen) }
	_, err := s.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			if err := tx.Put(fmt.Sprintf("k/%07d", i), value(i, 1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(r store.Reader, gen int, rewrite func(k string, i int) error) error {
		i := 0
		err := r.Scan("k/", func(k string, v []byte) error {
			if want := fmt.Sprintf("k/%07d", i); k != want || !bytes.Equal(v, value(i, gen)) {
				return fmt.Errorf("key %d: %q = %q, want %q = %q", i, k, v, want, value(i, gen))
			}
			if rewrite != nil {
				if err := rewrite(k, i); err != nil {
					return err
				}
			}
			i++
			return nil
		})
		if err == nil && i != n {
			err = fmt.Errorf("scanned %d keys, want %d", i, n)
		}
		return err
	}
	if err := s.View(ctx, func(r store.Reader) error { return check(r, 1, nil) }); err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, func(tx store.Tx) error {
		return check(tx, 1, func(k string, i int) error { return tx.Put(k, value(i, 2)) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(r store.Reader) error { return check(r, 2, nil) }); err != nil {
		t.Fatal(err)
	}
}
