// Package yield lets a goroutine give the core to the rest of the process the way waiting for the network would.
package yield

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
