//go:build !linux

package yield

import "runtime"

// Yielder yields for one goroutine at a time.
type Yielder struct{}

// New returns a Yielder.
func New() (*Yielder, error) { return &Yielder{}, nil }

// Yield lets other goroutines run (runtime.Gosched: it does not poll the network first).
func (y *Yielder) Yield() { runtime.Gosched() }

// Close does nothing.
func (y *Yielder) Close() {}
