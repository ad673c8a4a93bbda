// Package daemon assembles a running failoverdns server from its configuration: the store, the
// service, the loop that publishes DNS snapshots, the DNS listeners and the HTTP API.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/api"
	"github.com/failoverdns/failoverdns/internal/config"
	"github.com/failoverdns/failoverdns/internal/dnsserver"
	"github.com/failoverdns/failoverdns/internal/metrics"
	"github.com/failoverdns/failoverdns/internal/notify"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
)

// DBFile is the name of the embedded database inside the data directory.
const DBFile = "failoverdns.db"

// Daemon is one failoverdns server.
type Daemon struct {
	cfg  config.Config
	log  *slog.Logger
	st   store.Store
	svc  *service.Service
	snap atomic.Pointer[answer.Snapshot]
	dns  *dnsserver.Server
	http *http.Server
	ln   net.Listener

	metrics *metrics.Metrics
	notify  *notify.Notifier

	importChunk int // service.Options.ImportChunk; tests make it small
}

// New returns a daemon for cfg, which must have been validated.
func New(cfg config.Config, log *slog.Logger) *Daemon {
	return &Daemon{cfg: cfg, log: log}
}

// Service returns the service layer (valid once Run has called ready).
func (d *Daemon) Service() *service.Service { return d.svc }

// DNSAddr returns the address DNS is served on (valid once Run has called ready).
func (d *Daemon) DNSAddr() string { return d.dns.Addr() }

// APIURL returns the base URL of the API (valid once Run has called ready).
func (d *Daemon) APIURL() string { return "http://" + d.ln.Addr().String() }

// Run opens the store, starts serving and blocks until ctx ends, then shuts down cleanly. ready,
// when not nil, runs once everything listens; an error from it stops the daemon.
func (d *Daemon) Run(ctx context.Context, ready func() error) (err error) {
	if err := os.MkdirAll(d.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("daemon: data dir: %w", err)
	}
	d.st, err = bolt.Open(filepath.Join(d.cfg.DataDir, DBFile), bolt.Options{})
	if err != nil {
		return err
	}
	defer d.st.Close()
	pub := newPublisher(d)
	// Before anything emits events; DNS is read only by scrapes, which start after it listens.
	d.notify = notify.New(d.cfg.Notify, d.log)
	d.metrics = metrics.New(metrics.Sources{DNS: func() dnsserver.Stats { return d.dns.Stats() }, Checker: pub.checker, Hooks: d.hookStats})
	d.svc = service.New(d.st, service.Options{Nameservers: d.cfg.Nameservers, Hostmaster: d.cfg.Hostmaster, Monitor: pub.checker,
		ImportChunk: d.importChunk})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	notified := make(chan struct{})
	go func() { d.notify.Run(ctx); close(notified) }()
	defer func() { cancel(); <-notified }()
	// published closes when the publisher has stopped, with its error in pubErr: a channel
	// closed, not sent on, so that both the select below and the deferred wait see it.
	published := make(chan struct{})
	var pubErr error
	go func() { pubErr = pub.run(ctx); close(published) }()
	defer func() { cancel(); <-published }()
	maintained := make(chan struct{})
	go func() { d.runMaintenance(ctx, pub.emit); close(maintained) }()
	defer func() { cancel(); <-maintained }()
	swept := make(chan struct{})
	go func() {
		// What imports leave behind: at once what the last run left, then after each import.
		var after uint64
		for ok := true; ok; after, ok = d.svc.AwaitRetired(ctx, after) {
			if err := d.svc.Sweep(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("deleting the old copy of a zone failed; retried after the next import of more than 50,000 record sets, or at the next start", "err", err)
			}
		}
		close(swept)
	}()
	defer func() { cancel(); <-swept }()

	d.dns = dnsserver.New(dnsserver.Config{Listen: d.cfg.DNSListen, Sockets: d.cfg.DNSSockets, Logger: d.log}, &d.snap)
	if err := d.dns.Start(); err != nil {
		return err
	}
	defer d.shutdownDNS()

	d.ln, err = net.Listen("tcp", d.cfg.APIListen)
	if err != nil {
		return fmt.Errorf("daemon: api listen %s: %w", d.cfg.APIListen, err)
	}
	apiServer := api.New(d.svc, d.log)
	apiServer.Metrics(d.metrics.Handler())
	apiServer.MaintenanceRoutes()
	handler, err := d.apiHandler(apiServer)
	if err != nil {
		d.ln.Close()
		return err
	}
	d.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		// Requests end with the daemon, so that followers of /v1/events do not hold up shutdown.
		BaseContext: func(net.Listener) context.Context { return ctx }}
	served := make(chan error, 1)
	go func() { served <- d.http.Serve(d.ln) }()
	defer d.shutdownHTTP()

	d.log.Info("failoverdns serving", "dns", d.DNSAddr(), "api", d.APIURL(), "data_dir", d.cfg.DataDir)
	if ready != nil {
		if err := ready(); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("daemon: api: %w", err)
	case <-published:
		if ctx.Err() == nil {
			return pubErr
		}
	}
	d.log.Info("failoverdns stopping")
	return nil
}

// apiHandler serves the Route 53 REST-XML API under /2013-04-01/ and native everything else. With
// no api-access-keys the Route 53 API accepts any credentials, so it must listen on loopback only.
func (d *Daemon) apiHandler(native http.Handler) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("/", native)
	mux.Handle(api.Route53Prefix, api.NewRoute53(d.svc, d.log, api.Route53Options{
		AccessKeys: d.cfg.AccessKeys(),
		Snapshot:   d.snap.Load,
	}))
	if len(d.cfg.APIAccessKeys) > 0 {
		d.log.Info("route53 api: requests must be SigV4-signed with a configured access key", "access_keys", len(d.cfg.APIAccessKeys))
		return mux, nil
	}
	if tcp, ok := d.ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		return nil, fmt.Errorf("daemon: api-listen %s is not a loopback address and api-access-keys is empty: anyone who can reach it could change zones; set api-access-keys or listen on 127.0.0.1", d.ln.Addr())
	}
	d.log.Info("route53 api: no api-access-keys configured; accepting any credentials, on loopback only")
	return mux, nil
}

func (d *Daemon) shutdownDNS() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.dns.Shutdown(ctx); err != nil {
		d.log.Warn("dns shutdown", "err", err)
	}
}

func (d *Daemon) shutdownHTTP() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.http.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		d.log.Warn("api shutdown", "err", err)
	}
}
