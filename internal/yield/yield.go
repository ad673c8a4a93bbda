// Package yield lets a goroutine give the core to the rest of the process the way waiting for the network would.
package yield

import "io"

// The runtime runs every other runnable goroutine and polls the network before the goroutine
// that yields goes on. A goroutine that is always runnable only gives way when the runtime's monitor preempts it,
// every 10 ms, and the preempted goroutine goes to the global run queue, which the scheduler
// looks at before the network poller: with GOMAXPROCS 1 the goroutines waiting for network I/O
// are then only woken by the monitor's own poll, also every 10 ms. runtime.Gosched has the same
// flaw, and a short time.Sleep keeps the goroutine off the core for a fixed time even when
// nothing else wants it (the runtime rounds sleeps below 1 ms up to 1 ms when it is idle).
//
// On Linux a Yielder parks on an eventfd it has just made readable: the scheduler runs what
// else is runnable, then polls the network (as it does whenever its run queues are empty),
// which wakes the goroutines that have I/O and the yielding one alike. It is off the core only
// while other goroutines want it, and the eventfd's event never fails to come. Elsewhere Yield
// is runtime.Gosched.

// Writer passes each write on to the writer it wraps and then yields, so that a goroutine that
// writes a long response in chunks (a bufio.Writer's) lets the DNS readers answer between them:
// without it they wait for the runtime's preemption, up to 10 ms, behind every such response.
type Writer struct {
	w io.Writer
	y *Yielder // nil when New failed (out of file descriptors): the Writer only writes
}

// NewWriter returns a Writer on w; Close releases what it holds.
func NewWriter(w io.Writer) *Writer {
	y, err := New()
	if err != nil {
		y = nil
	}
	return &Writer{w: w, y: y}
}

// Write writes p to the wrapped writer, then yields.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if w.y != nil {
		w.y.Yield()
	}
	return n, err
}

// Close releases the Writer's Yielder; the wrapped writer is left open.
func (w *Writer) Close() {
	if w.y != nil {
		w.y.Close()
	}
}
