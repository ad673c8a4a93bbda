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
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
	"github.com/failoverdns/failoverdns/internal/zone"
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
	d.svc = service.New(d.st, service.Options{Nameservers: d.cfg.Nameservers, Hostmaster: d.cfg.Hostmaster})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	published := make(chan error, 1)
	go func() { published <- d.publish(ctx) }()

	d.dns = dnsserver.New(dnsserver.Config{Listen: d.cfg.DNSListen, Sockets: d.cfg.DNSSockets, Logger: d.log}, &d.snap)
	if err := d.dns.Start(); err != nil {
		return err
	}
	defer d.shutdownDNS()

	d.ln, err = net.Listen("tcp", d.cfg.APIListen)
	if err != nil {
		return fmt.Errorf("daemon: api listen %s: %w", d.cfg.APIListen, err)
	}
	d.http = &http.Server{Handler: api.New(d.svc, d.log), ReadHeaderTimeout: 10 * time.Second}
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
	case err := <-published:
		if ctx.Err() == nil {
			return err
		}
	}
	d.log.Info("failoverdns stopping")
	return nil
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

// publish keeps the DNS snapshot equal to the store: it loads every zone, then on each change
// event reloads the zones the event touched, builds a new snapshot and swaps it in.
func (d *Daemon) publish(ctx context.Context) error {
	events := d.st.Watch(ctx) // before the first read, so no commit falls between the two
	rev, err := d.st.Revision(ctx)
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	zones := map[string]zone.Zone{}
	if err := d.reload(ctx, zones, nil); err != nil {
		return err
	}
	d.swap(zones, rev)
	failed := false // a reload failed: the next event reloads everything
	for ev := range events {
		if ev.Revision <= rev && !ev.Reset {
			continue
		}
		rev = ev.Revision
		all, ids := ev.Reset || failed, service.ZoneIDs(ev.Keys)
		// Coalesce whatever else is already queued into one rebuild.
	drain:
		for {
			select {
			case more, ok := <-events:
				if !ok {
					break drain
				}
				rev = max(rev, more.Revision)
				all = all || more.Reset
				ids = append(ids, service.ZoneIDs(more.Keys)...)
			default:
				break drain
			}
		}
		if !all && len(ids) == 0 {
			d.svc.SetServed(rev)
			continue
		}
		if all {
			ids = nil
			clear(zones)
		}
		if err := d.reload(ctx, zones, ids); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.log.Error("reloading zones failed; still serving the previous data", "err", err)
			failed = true
			continue
		}
		failed = false
		d.swap(zones, rev)
	}
	if ctx.Err() == nil {
		return errors.New("daemon: the store stopped sending change events")
	}
	return nil
}

// reload rereads the zones with the given ids (all zones when ids is nil) into zones.
func (d *Daemon) reload(ctx context.Context, zones map[string]zone.Zone, ids []string) error {
	loaded, err := d.svc.Zones(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		delete(zones, id)
	}
	for _, z := range loaded {
		zones[z.ID] = z
	}
	return nil
}

func (d *Daemon) swap(zones map[string]zone.Zone, rev uint64) {
	list := make([]zone.Zone, 0, len(zones))
	for _, z := range zones {
		list = append(list, z)
	}
	snap, err := answer.Build(list)
	if err != nil {
		d.log.Error("building the DNS snapshot failed; still serving the previous data", "revision", rev, "err", err)
		return
	}
	d.snap.Store(snap)
	d.svc.SetServed(rev)
}
