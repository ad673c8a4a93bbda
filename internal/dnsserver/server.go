// Package dnsserver answers DNS queries over UDP and TCP from the current answer snapshot; it is
// the only glue between failoverdns and miekg/dns's listeners.
package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
)

// Timeouts of TCP connections (miekg/dns's defaults, RFC 7766).
const (
	readTimeout  = 2 * time.Second // for the first query of a connection
	idleTimeout  = 8 * time.Second // between queries
	writeTimeout = 2 * time.Second
)

// Config is what a Server listens on.
type Config struct {
	// Listen is the address UDP and TCP are served on, e.g. "127.0.0.1:5300". With port 0 both
	// share one ephemeral port, which Addr reports.
	Listen string
	// Sockets is the number of UDP sockets bound to the address with SO_REUSEPORT, each read by
	// its own goroutine, which answers inline; 0 means one per CPU (GOMAXPROCS).
	Sockets int
	// Logger receives what goes wrong while serving; nil discards it.
	Logger *slog.Logger
}

// Server serves DNS from the snapshot its pointer holds at the moment each query arrives. A
// nil snapshot (before the first one is built) is answered SERVFAIL, which makes resolvers try
// another server rather than cache a negative answer.
type Server struct {
	cfg  Config
	snap *atomic.Pointer[answer.Snapshot]
	log  *slog.Logger

	mu      sync.Mutex
	servers []*dns.Server
	addr    string
	udp     []*counters // one per UDP socket
	wg      sync.WaitGroup
	closing atomic.Bool

	shared counters  // TCP connections and anything else without counters of its own
	pool   sync.Pool // *worker for TCP connections
}

// New returns a server for cfg that reads answers from snap. It does not listen until Start.
func New(cfg Config, snap *atomic.Pointer[answer.Snapshot]) *Server {
	s := &Server{cfg: cfg, snap: snap, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.pool.New = func() any { return newWorker(&s.shared) }
	return s
}

// Start listens on UDP and TCP and returns once both are served, or with an error naming the
// address and the cause (such as the address being in use).
func (s *Server) Start() error {
	host, port, err := net.SplitHostPort(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("dnsserver: listen address %q: %w", s.cfg.Listen, err)
	}
	n := s.cfg.Sockets
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for attempt := 1; ; attempt++ {
		err := s.listen(host, port, n)
		// Port 0: UDP got a free port, but TCP may find it taken; try another.
		if err == nil || port != "0" || !errors.Is(err, syscall.EADDRINUSE) || attempt == 10 {
			return err
		}
	}
}

// listen binds n UDP sockets and one TCP socket on one port.
func (s *Server) listen(host, port string, n int) error {
	var started []*dns.Server
	fail := func(err error) error {
		for _, srv := range started {
			_ = srv.Shutdown()
		}
		return err
	}
	var pc *net.UDPConn
	if port == "0" && n > 1 {
		var err error
		if pc, err = listenFreeUDP(host); err != nil {
			return err
		}
	}
	first, err := s.serve("udp", net.JoinHostPort(host, port), n > 1, pc)
	if err != nil {
		if pc != nil {
			pc.Close()
		}
		return err
	}
	started = append(started, first)
	addr := first.PacketConn.LocalAddr().String()
	for range n - 1 {
		srv, err := s.serve("udp", addr, true, nil)
		if err != nil {
			return fail(err)
		}
		started = append(started, srv)
	}
	srv, err := s.serve("tcp", addr, false, nil)
	if err != nil {
		return fail(err)
	}
	started = append(started, srv)
	s.mu.Lock()
	s.servers, s.addr = started, addr
	s.mu.Unlock()
	return nil
}

// serve starts one miekg/dns server and waits until it listens: on pc when it is not nil.
func (s *Server) serve(network, addr string, reusePort bool, pc *net.UDPConn) (*dns.Server, error) {
	srv := &dns.Server{
		Addr:           addr,
		Net:            network,
		ReusePort:      reusePort,
		Handler:        s,
		MsgAcceptFunc:  accept,
		DecorateReader: s.decorate,
		ReadTimeout:    readTimeout,
		WriteTimeout:   writeTimeout,
		IdleTimeout:    func() time.Duration { return idleTimeout },
		MaxTCPQueries:  -1,
	}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		if pc != nil {
			srv.PacketConn = pc
			err = srv.ActivateAndServe()
		} else {
			err = srv.ListenAndServe()
		}
		select {
		case <-started:
			if err != nil && !s.closing.Load() {
				s.log.Error("dnsserver: serving stopped", "network", network, "addr", addr, "err", err)
			}
		default:
			failed <- err
		}
	}()
	select {
	case <-started:
		return srv, nil
	case err := <-failed:
		return nil, fmt.Errorf("dnsserver: %w", err)
	}
}

// Addr returns the address served on, with the actual port; "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Shutdown stops listening, lets queries in progress finish and closes the sockets. It returns
// early with the context's error when ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dnsserver: shutdown: %w", err)
	}
	return nil
}

// Stats are the server's counters since New.
type Stats struct {
	Queries   uint64 // requests answered, whatever the rcode
	Dropped   uint64 // requests not answered: responses, and packets shorter than a header
	FormErr   uint64 // answered FORMERR
	NotImp    uint64 // answered NOTIMP
	Refused   uint64 // answered REFUSED
	ServFail  uint64 // answered SERVFAIL (no snapshot yet, or a panic)
	Panics    uint64 // queries whose answering panicked (answered SERVFAIL)
	Truncated uint64 // UDP answers sent with TC set
	Cached    uint64 // UDP answers copied from a reader's cache of replies that do not vary

	// QTypes counts answered requests by question type (0 for a request whose question could
	// not be read, 65535 for types above 257 together).
	QTypes map[uint16]uint64
	// Rcodes counts answered requests by rcode (23 stands for 23 and above).
	Rcodes map[int]uint64
	// Latency counts answered requests by the time taken to answer, in the buckets of
	// LatencyBounds plus one for slower ones; LatencySum is their total time. Only one request
	// in 8 is measured (reading the clock is not free), so these count a sample.
	Latency    [len(LatencyBounds) + 1]uint64
	LatencySum time.Duration
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	all := append([]*counters{&s.shared}, s.udp...)
	s.mu.Unlock()
	var st Stats
	for _, c := range all {
		st.Queries += c.queries.Load()
		st.Dropped += c.dropped.Load()
		st.FormErr += c.formErr.Load()
		st.NotImp += c.notImp.Load()
		st.Refused += c.refused.Load()
		st.ServFail += c.servFail.Load()
		st.Panics += c.panics.Load()
		st.Truncated += c.truncated.Load()
		st.Cached += c.cached.Load()
		for i := range c.qtypes {
			if n := c.qtypes[i].Load(); n > 0 {
				if st.QTypes == nil {
					st.QTypes = map[uint16]uint64{}
				}
				t := uint16(i)
				switch i {
				case noQuestionSlot:
					t = 0
				case otherTypeSlot:
					t = 65535
				}
				st.QTypes[t] += n
			}
		}
		for i := range c.rcodes {
			if n := c.rcodes[i].Load(); n > 0 {
				if st.Rcodes == nil {
					st.Rcodes = map[int]uint64{}
				}
				st.Rcodes[i] += n
			}
		}
		for i := range c.latency {
			st.Latency[i] += c.latency[i].Load()
		}
		st.LatencySum += time.Duration(c.latSum.Load())
	}
	return st
}

// decorate replaces miekg/dns's readers: ours answer each query on the goroutine that read it,
// from raw bytes to raw bytes (handle), and never hand a message back to miekg/dns, which is left
// with binding the sockets (SO_REUSEPORT, packet info for the reply's source address), accepting
// TCP connections and shutting down.
func (s *Server) decorate(dns.Reader) dns.Reader { return &reader{s: s} }

// reader serves one UDP socket or one TCP connection.
type reader struct {
	s *Server
	w *worker // UDP: kept for the socket's lifetime
}

// ReadUDP answers queries on conn until reading fails (at Shutdown).
func (r *reader) ReadUDP(conn *net.UDPConn, _ time.Duration) ([]byte, *dns.SessionUDP, error) {
	if r.w == nil {
		c := new(counters)
		r.s.mu.Lock()
		r.s.udp = append(r.s.udp, c)
		r.s.mu.Unlock()
		r.w = newWorker(c)
		r.w.cache = newReplyCache()
		setBuffers(conn)
	}
	// Bound to one address, replies leave from it; bound to a wildcard address, each reply
	// must leave from the address its query came to.
	la, ok := conn.LocalAddr().(*net.UDPAddr)
	return nil, nil, r.serveBatched(conn, ok && la.IP.IsUnspecified())
}

// serveSessions answers the queries of conn one datagram per system call, through miekg/dns's
// sessions, which carry each query's destination address so that its reply leaves from it.
//
//lint:ignore U1000 serveBatched calls it where recvmmsg is not used (mmsg_each.go).
func (r *reader) serveSessions(conn *net.UDPConn) error {
	w := r.w
	for {
		n, session, err := dns.ReadFromSessionUDP(conn, w.in)
		if err != nil {
			return err
		}
		if resp := r.s.handle(w, w.in[:n], false); resp != nil {
			_, _ = dns.WriteToSessionUDP(conn, resp, session)
		}
	}
}

// serveEach answers the queries of conn, one datagram per system call, until reading fails.
//
//lint:ignore U1000 serveBatched calls it where recvmmsg is not used (mmsg_each.go).
func (r *reader) serveEach(conn *net.UDPConn) error {
	w := r.w
	for {
		n, from, err := conn.ReadFromUDPAddrPort(w.in)
		if err != nil {
			return err
		}
		if resp := r.s.handle(w, w.in[:n], false); resp != nil {
			_, _ = conn.WriteToUDPAddrPort(resp, from) // a failed send is the client's loss
		}
	}
}

// errDrop closes a TCP connection that sent something not worth an answer.
var errDrop = errors.New("dnsserver: request dropped")

// ReadTCP answers the queries of one TCP connection, in order, until the client closes it, it
// stays idle too long, or the server shuts down.
func (r *reader) ReadTCP(conn net.Conn, timeout time.Duration) ([]byte, error) {
	w := r.s.pool.Get().(*worker)
	defer r.s.pool.Put(w)
	for {
		if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return nil, err
		}
		// Shutdown sets a deadline in the past on every connection after closing is set; a
		// deadline set before that is overridden, and one set after it is caught here.
		if r.s.closing.Load() {
			return nil, net.ErrClosed
		}
		timeout = idleTimeout
		if _, err := io.ReadFull(conn, w.in[:2]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint16(w.in))
		if _, err := io.ReadFull(conn, w.in[:n]); err != nil {
			return nil, err
		}
		resp := r.s.handle(w, w.in[:n], true)
		if resp == nil {
			return nil, errDrop
		}
		binary.BigEndian.PutUint16(w.out, uint16(len(resp)))
		if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
			return nil, err
		}
		if _, err := conn.Write(w.out[:2+len(resp)]); err != nil {
			return nil, err
		}
	}
}

// ServeDNS implements dns.Handler for a message miekg/dns has parsed itself, which happens only
// if a reader is bypassed; it answers through handle like every other query.
func (s *Server) ServeDNS(rw dns.ResponseWriter, m *dns.Msg) {
	req, err := m.Pack()
	if err != nil {
		_ = rw.Close()
		return
	}
	w := s.pool.Get().(*worker)
	defer s.pool.Put(w)
	_, tcp := rw.RemoteAddr().(*net.TCPAddr)
	if resp := s.handle(w, req, tcp); resp != nil {
		_, _ = rw.Write(resp)
	}
}
