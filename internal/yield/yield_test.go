package yield

import (
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestYield: a yield returns by itself, with nothing else to run and no traffic anywhere, and
// allocates nothing (a DNS reader under load yields every millisecond).
func TestYield(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // as on one pinned core
	y, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	done := make(chan struct{})
	go func() {
		for range 1000 {
			y.Yield()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("1000 yields did not return within 10 s")
	}
	if n := testing.AllocsPerRun(100, y.Yield); n != 0 {
		t.Errorf("a yield makes %v allocations", n)
	}
}

// countWriter counts the writes that reach it (atomically: the goroutines only take turns on one
// P, which the race detector does not know).
type countWriter struct{ n atomic.Int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n.Add(1); return len(p), nil }

// TestWriterLetsWaitingReadersIn: on one P, a goroutine waiting for a datagram that has arrived
// runs after the first write through a Writer, not when the writing goroutine is done (or
// preempted). Without the yield the reader would see all 100 writes made.
func TestWriterLetsWaitingReadersIn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("elsewhere a yield is runtime.Gosched, which does not poll the network")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cw countWriter
	seen := make(chan int, 1)
	waiting := make(chan struct{})
	go func() {
		close(waiting)
		buf := make([]byte, 16)
		if _, _, err := conn.ReadFrom(buf); err != nil {
			seen <- -1
			return
		}
		seen <- int(cw.n.Load()) // the writes made when this goroutine ran again
	}()
	<-waiting
	runtime.Gosched() // let the reader park in the network poller
	c, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil { // on loopback, in the socket on return
		t.Fatal(err)
	}
	w := NewWriter(&cw)
	defer w.Close()
	for range 100 {
		if _, err := w.Write([]byte("chunk")); err != nil {
			t.Fatal(err)
		}
	}
	if got := <-seen; got < 1 || got >= 100 {
		t.Errorf("the waiting reader ran after %d of 100 writes, want after the first few", got)
	}
}
