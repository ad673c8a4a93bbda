package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/failoverdns/failoverdns/internal/api"
	"github.com/failoverdns/failoverdns/internal/config"
	"github.com/failoverdns/failoverdns/internal/daemon"
	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

//go:embed demo.zone
var demoZone []byte

const demoZoneName = "demo.test."

func newServe(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the DNS server and its API",
		Long: `Run the DNS server and its API in the foreground until SIGINT or SIGTERM.

Every setting can come from the YAML file given with --config, from a FAILOVERDNS_* environment
variable (FAILOVERDNS_DATA_DIR, FAILOVERDNS_DNS_LISTEN, ...) or from its flag; a flag wins over
the environment, which wins over the file.`,
		Args: noArgs,
	}
	defaults := config.Default()
	flags := map[string]*string{}
	for _, name := range config.Names() {
		def := ""
		switch name {
		case "data-dir":
			def = defaults.DataDir
		case "dns-listen":
			def = defaults.DNSListen
		case "api-listen":
			def = defaults.APIListen
		}
		flags[name] = cmd.Flags().String(name, def, fmt.Sprintf("setting %q (env %s)", name, config.EnvName(name)))
	}
	configFile := cmd.Flags().String("config", "", "YAML settings file (env FAILOVERDNS_CONFIG)")
	demo := cmd.Flags().Bool("demo", false, "create the zone "+demoZoneName+" with a few records if it does not exist")
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		path := *configFile
		if path == "" {
			path = e.getenv("FAILOVERDNS_CONFIG")
		}
		cfg, err := config.Load(path, e.getenv)
		if err != nil {
			return withHint(err, "see docs/config.md for the settings")
		}
		for name, val := range flags {
			if c.Flags().Changed(name) {
				if err := cfg.Set(name, *val); err != nil {
					return &usageError{"--" + name + ": " + err.Error()}
				}
			}
		}
		if err := cfg.Validate(); err != nil {
			return withHint(err, "fix the setting in the flag, the FAILOVERDNS_* variable or the --config file")
		}
		log := newLogger(e, cfg)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		api.Version = version
		d := daemon.New(cfg, log)
		var ready func() error
		if *demo {
			ready = func() error { return seedDemo(ctx, d.Service(), d.APIURL(), log) }
		}
		if err := d.Run(ctx, ready); err != nil {
			return withHint(err, "check the data dir and the listen addresses (--data-dir, --dns-listen, --api-listen)")
		}
		return nil
	}
	return cmd
}

func newLogger(e *env, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// seedDemo creates the demo zone from the embedded master file unless it exists, and a failover
// pair app.demo.test (primary 192.0.2.20, standby 192.0.2.30) whose primary is guarded by the
// health check "demo-primary", which probes this server's own API.
func seedDemo(ctx context.Context, svc *service.Service, apiURL string, log *slog.Logger) error {
	if _, err := svc.GetZone(ctx, demoZoneName); err == nil {
		return nil
	}
	hz, _, err := svc.CreateZone(ctx, demoZoneName, "", "failoverdns demo zone")
	if err != nil {
		return fmt.Errorf("demo zone: %w", err)
	}
	sets, err := zone.ParseMasterFile(demoZoneName, bytes.NewReader(demoZone))
	if err != nil {
		return fmt.Errorf("demo zone: %w", err)
	}
	if _, err := svc.ImportZone(ctx, hz.Id, sets, "demo"); err != nil {
		return fmt.Errorf("demo zone: %w", err)
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return fmt.Errorf("demo zone: %w", err)
	}
	host, port, _ := net.SplitHostPort(u.Host)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	portNum, _ := strconv.Atoi(port)
	hc, _, err := svc.CreateHealthCheck(ctx, "demo-primary", health.Config{Type: health.TypeHTTP, IPAddress: host, Port: portNum,
		ResourcePath: "/healthz", RequestInterval: 1, FailureThreshold: 2})
	if err != nil {
		return fmt.Errorf("demo health check: %w", err)
	}
	ttl := int64(0)
	pair := func(id, role, ip, check string) zone.Change {
		return zone.Change{Action: zone.ActionCreate, ResourceRecordSet: zone.RecordSet{Name: "app." + demoZoneName, Type: "A", TTL: &ttl,
			SetIdentifier: id, Failover: role, HealthCheckId: check, ResourceRecords: []zone.ResourceRecord{{Value: ip}}}}
	}
	if _, err := svc.ChangeRecordSets(ctx, hz.Id, zone.ChangeBatch{Comment: "demo failover pair", Changes: []zone.Change{
		pair("primary", "PRIMARY", "192.0.2.20", hc.Id), pair("standby", "SECONDARY", "192.0.2.30", "")}}); err != nil {
		return fmt.Errorf("demo zone: %w", err)
	}
	log.Info("created the demo zone", "zone", demoZoneName, "try", "dig @HOST -p PORT www."+demoZoneName)
	return nil
}
