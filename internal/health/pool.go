package health

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// DefaultReuseFor is how long after it was opened a connection may carry further probes of its
// target, unless Prober.ReuseFor says otherwise.
const DefaultReuseFor = 10 * time.Second

// DefaultMaxIdleConns bounds the connections a Prober keeps open between probes, all targets
// together, unless Prober.MaxIdleConns says otherwise.
const DefaultMaxIdleConns = 4096

// idleTimeout closes a connection that no probe used for this long: below the 5 s keep-alive
// timeout of Apache httpd and Node.js, so that the server rarely closes it first.
const idleTimeout = 4 * time.Second

// poolKey is what connections are shared by: the address, and for HTTPS what the handshake
// checked. Probes with equal keys may use each other's connections.
type poolKey struct {
	addr     netip.AddrPort
	tls      bool
	sni      string // ServerName sent
	verify   string // name the certificate was verified against, "" when not verified
	insecure bool
}

// pconn is a connection with its read buffer, kept between probes.
type pconn struct {
	conn      net.Conn
	br        *bufio.Reader // reads from cr
	cr        capReader     // reads from conn
	opened    time.Time
	idleSince time.Time

	// Plain TCP connections only (see send).
	raw      syscall.RawConn
	sendWait func(fd uintptr) bool // made once: a closure per probe would allocate
	req      []byte                // being sent
	wrote    int                   // of req; -1 before the write
	werr     error
}

func newPconn(conn net.Conn, opened time.Time) *pconn {
	pc := &pconn{conn: conn, opened: opened}
	pc.cr.r = conn
	pc.br = bufio.NewReaderSize(&pc.cr, 4096)
	if tc, ok := conn.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			pc.raw = raw
			pc.sendWait = pc.writeThenWait
		}
	}
	return pc
}

// send writes req to the connection. Over plain TCP it writes from within a wait for the
// connection to become readable, and returns once the response has begun to arrive (or the wait
// failed: the read that follows reports why), so that the read after it does not first find
// nothing and park: one system call fewer in each probe's three. Writing before the wait begins
// could lose the readiness of a response that arrived in between. A write that does not take all
// of req at once is finished by conn.Write.
func (pc *pconn) send(req []byte) error {
	if pc.raw == nil {
		_, err := pc.conn.Write(req)
		return err
	}
	pc.req, pc.wrote, pc.werr = req, -1, nil
	_ = pc.raw.Read(pc.sendWait)
	n, err := pc.wrote, pc.werr
	pc.req, pc.werr = nil, nil
	switch {
	case err != nil:
		return &net.OpError{Op: "write", Net: "tcp", Addr: pc.conn.RemoteAddr(), Err: os.NewSyscallError("write", err)}
	case n < 0: // the wait failed before the write (deadline passed, interrupted, closed)
		_, err := pc.conn.Write(req)
		return err
	case n < len(req):
		_, err := pc.conn.Write(req[n:])
		return err
	}
	return nil
}

// writeThenWait is the function of send's wait: the first call writes the request and asks to
// wait when it was all written; the next, after the wait, ends it.
func (pc *pconn) writeThenWait(fd uintptr) bool {
	if pc.wrote >= 0 {
		return true
	}
	var n int
	var err error
	for {
		n, err = syscall.Write(int(fd), pc.req)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EAGAIN {
		n, err = 0, nil
	}
	pc.wrote, pc.werr = max(n, 0), err
	return err != nil || pc.wrote < len(pc.req)
}

// capReader reads from r: at most n more bytes, then it fails; nothing at all while off.
type capReader struct {
	r        io.Reader
	n        int
	got      int // bytes read since the request was sent
	exceeded bool
	off      bool
}

var (
	errTooLarge   = errors.New("response too large")
	errNotArrived = errors.New("the rest of the response has not arrived")
)

func (c *capReader) Read(p []byte) (int, error) {
	if c.off {
		return 0, errNotArrived
	}
	if c.n <= 0 {
		c.exceeded = true
		return 0, errTooLarge
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	c.got += n
	return n, err
}

// idlePool holds the idle connections of one key, the most recently used last.
type idlePool struct {
	conns    []*pconn
	lastUsed time.Time
}

func (p *Prober) reuseFor() time.Duration {
	if p.ReuseFor == 0 {
		return DefaultReuseFor
	}
	return p.ReuseFor
}

// get takes the most recently used idle connection of key that may still be used, or returns nil.
func (p *Prober) get(key poolKey, now time.Time) *pconn {
	var stale []*pconn
	var found *pconn
	p.mu.Lock()
	if ip := p.pools[key]; ip != nil {
		ip.lastUsed = now
		for n := len(ip.conns); n > 0 && found == nil; n-- {
			pc := ip.conns[n-1]
			ip.conns[n-1] = nil
			ip.conns = ip.conns[:n-1]
			p.idle--
			if p.usable(pc, now) {
				found = pc
			} else {
				stale = append(stale, pc)
			}
		}
	}
	p.mu.Unlock()
	closeAll(stale)
	return found
}

func (p *Prober) usable(pc *pconn, now time.Time) bool {
	return now.Sub(pc.idleSince) < idleTimeout && now.Sub(pc.opened) < p.reuseFor()
}

// put keeps pc for the next probe of key, or closes it when it is too old or the pool is full.
func (p *Prober) put(key poolKey, pc *pconn, now time.Time) {
	pc.idleSince = now
	limit := p.MaxIdleConns
	if limit == 0 {
		limit = DefaultMaxIdleConns
	}
	p.mu.Lock()
	if !p.usable(pc, now) || p.idle >= limit {
		p.mu.Unlock()
		pc.conn.Close()
		return
	}
	if p.pools == nil {
		p.pools = make(map[poolKey]*idlePool)
	}
	ip := p.pools[key]
	if ip == nil {
		ip = &idlePool{}
		p.pools[key] = ip
	}
	ip.conns = append(ip.conns, pc)
	ip.lastUsed = now
	p.idle++
	if !p.sweeping {
		p.sweeping = true
		if p.sweeper == nil {
			p.sweeper = time.AfterFunc(idleTimeout, p.sweep)
		} else {
			p.sweeper.Reset(idleTimeout)
		}
	}
	p.mu.Unlock()
}

// drop closes the idle connections of key: a fresh connection to it just failed.
func (p *Prober) drop(key poolKey) {
	p.mu.Lock()
	ip := p.pools[key]
	if ip == nil || len(ip.conns) == 0 {
		p.mu.Unlock()
		return
	}
	stale := ip.conns
	ip.conns = nil
	p.idle -= len(stale)
	p.mu.Unlock()
	closeAll(stale)
}

// sweep closes the connections idle for idleTimeout or too old, and forgets the keys unused as
// long; it runs every idleTimeout while connections are idle.
func (p *Prober) sweep() {
	var stale []*pconn
	now := time.Now()
	p.mu.Lock()
	for key, ip := range p.pools {
		kept := ip.conns[:0]
		for _, pc := range ip.conns {
			if p.usable(pc, now) {
				kept = append(kept, pc)
			} else {
				stale = append(stale, pc)
			}
		}
		clear(ip.conns[len(kept):])
		ip.conns = kept
		if len(kept) == 0 && now.Sub(ip.lastUsed) >= idleTimeout {
			delete(p.pools, key)
		}
	}
	p.idle -= len(stale)
	if p.idle > 0 {
		p.sweeper.Reset(idleTimeout)
	} else {
		p.sweeping = false
	}
	p.mu.Unlock()
	closeAll(stale)
}

// CloseIdle closes the connections kept between probes. Probes that run later open new ones.
func (p *Prober) CloseIdle() {
	p.mu.Lock()
	var stale []*pconn
	for _, ip := range p.pools {
		stale = append(stale, ip.conns...)
	}
	clear(p.pools)
	p.idle = 0
	p.mu.Unlock()
	closeAll(stale)
}

func closeAll(pcs []*pconn) {
	for _, pc := range pcs {
		pc.conn.Close()
	}
}
