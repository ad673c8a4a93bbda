// Package config holds failoverdns's server settings: their defaults, the YAML file, the
// FAILOVERDNS_* environment variables and their validation. Environment reads happen only here.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is the whole server configuration. Each field is settable in the YAML file under its
// yaml name and through the environment as FAILOVERDNS_<NAME> (upper case, "-" and "." as "_").
type Config struct {
	// DataDir holds the embedded database (failoverdns.db).
	DataDir string `yaml:"data-dir"`
	// DNSListen is the UDP and TCP address DNS is served on.
	DNSListen string `yaml:"dns-listen"`
	// DNSSockets is the number of UDP sockets (SO_REUSEPORT) DNS reads from; 0 means one per CPU.
	DNSSockets int `yaml:"dns-sockets"`
	// APIListen is the HTTP address of the API.
	APIListen string `yaml:"api-listen"`
	// Nameservers are the NS records (and the SOA MNAME, the first) of every new zone.
	Nameservers []string `yaml:"nameservers"`
	// Hostmaster is the SOA RNAME of new zones; empty means "hostmaster.<zone>".
	Hostmaster string `yaml:"hostmaster"`
	// Notify configures webhooks and commands run on events (a YAML or JSON document in the
	// environment variable and the flag).
	Notify Notify `yaml:"notify"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log-level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log-format"`
	// APIAccessKeys are the "ACCESS_KEY_ID:SECRET" pairs Route 53 API requests must be signed
	// with (SigV4). Empty accepts any credentials, and then api-listen must be a loopback address.
	APIAccessKeys []string `yaml:"api-access-keys"`
}

// AccessKeys returns APIAccessKeys as a map from access key id to secret.
func (c Config) AccessKeys() map[string]string {
	m := map[string]string{}
	for _, kv := range c.APIAccessKeys {
		if id, secret, ok := strings.Cut(kv, ":"); ok {
			m[id] = secret
		}
	}
	return m
}

// loopbackHost reports whether host (from HOST:PORT) is a loopback address or "localhost".
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Default returns the configuration failoverdns runs with when nothing is set.
func Default() Config {
	return Config{
		DataDir:     "./failoverdns-data",
		DNSListen:   "127.0.0.1:5300",
		APIListen:   "127.0.0.1:8053",
		Nameservers: []string{"ns1.failoverdns.invalid.", "ns2.failoverdns.invalid."},
		LogLevel:    "info",
		LogFormat:   "text",
	}
}

// EnvPrefix is the prefix of every environment variable failoverdns reads.
const EnvPrefix = "FAILOVERDNS_"

// Load returns Default() overlaid with the YAML file at path (when path is not empty) and then
// with the FAILOVERDNS_* variables that getenv returns. It does not Validate.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := c.parseYAML(data); err != nil {
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// Parse returns Default() overlaid with the YAML document data; unknown keys are errors.
func Parse(data []byte) (Config, error) {
	c := Default()
	if err := c.parseYAML(data); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func (c *Config) parseYAML(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty config
		return err
	}
	return nil
}

// EnvName returns the environment variable that sets the setting with the given yaml name.
func EnvName(yamlName string) string {
	return EnvPrefix + strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(yamlName))
}

// Set assigns the setting with the given yaml name from its text form (a list is comma-separated).
func (c *Config) Set(yamlName, value string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("yaml") != yamlName {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(value)
		case reflect.Int:
			n, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", yamlName, value)
			}
			f.SetInt(int64(n))
		case reflect.Struct:
			// A structured setting: its YAML (or JSON) document.
			dec := yaml.NewDecoder(strings.NewReader(value))
			dec.KnownFields(true)
			if err := dec.Decode(f.Addr().Interface()); err != nil {
				return fmt.Errorf("%s: %w", yamlName, err)
			}
		case reflect.Slice:
			var list []string
			for _, s := range strings.Split(value, ",") {
				if s = strings.TrimSpace(s); s != "" {
					list = append(list, s)
				}
			}
			f.Set(reflect.ValueOf(list))
		}
		return nil
	}
	return fmt.Errorf("unknown setting %q", yamlName)
}

// Names lists the yaml names of every setting, in declaration order.
func Names() []string {
	t := reflect.TypeOf(Config{})
	out := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		out = append(out, t.Field(i).Tag.Get("yaml"))
	}
	return out
}

func (c *Config) applyEnv(getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	for _, name := range Names() {
		if val := getenv(EnvName(name)); val != "" {
			if err := c.Set(name, val); err != nil {
				return fmt.Errorf("%s: %w", EnvName(name), err)
			}
		}
	}
	return nil
}

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: data-dir is empty")
	}
	for name, addr := range map[string]string{"dns-listen": c.DNSListen, "api-listen": c.APIListen} {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("config: %s %q: want HOST:PORT", name, addr)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("config: %s %q: port must be a number from 0 to 65535", name, addr)
		}
		if host != "" && net.ParseIP(host) == nil && host != "localhost" {
			return fmt.Errorf("config: %s %q: host must be an IP address", name, addr)
		}
	}
	if c.DNSSockets < 0 || c.DNSSockets > 256 {
		return fmt.Errorf("config: dns-sockets %d: must be from 0 to 256", c.DNSSockets)
	}
	if err := c.Notify.validate(); err != nil {
		return err
	}
	if len(c.Nameservers) == 0 {
		return errors.New("config: nameservers is empty: new zones need at least one NS record")
	}
	for _, kv := range c.APIAccessKeys {
		id, secret, ok := strings.Cut(kv, ":")
		if !ok || id == "" || secret == "" || strings.ContainsAny(id, "/ ") {
			return fmt.Errorf("config: api-access-keys: an entry is not ACCESS_KEY_ID:SECRET (an id without '/' or spaces, a non-empty secret)")
		}
	}
	if host, _, _ := net.SplitHostPort(c.APIListen); len(c.APIAccessKeys) == 0 && !loopbackHost(host) {
		return fmt.Errorf("config: api-listen %q is not a loopback address, and api-access-keys is empty: the API would accept any request from the network; set api-access-keys (or %s) or listen on 127.0.0.1", c.APIListen, EnvName("api-access-keys"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("config: log-format %q: want text or json", c.LogFormat)
	}
	return nil
}
