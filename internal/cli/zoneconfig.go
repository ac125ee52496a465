package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// EnvConfig names the environment variable that points at the plugin's config file.
const EnvConfig = "DORA_CONFIG"

// Config is the plugin's own configuration: which kubeconfig context each zone is, the
// zone to use when none is named, and the prefix the clusters' authenticator puts before
// Dora user names. It lives in $DORA_CONFIG, else $XDG_CONFIG_HOME/dora/config.yaml, else
// ~/.config/dora/config.yaml:
//
//	defaultZone: dc-rov-01
//	usernamePrefix: "oidc:"
//	zones:
//	  dc-rov-01: {context: rov}
//	  dc-test-01: {context: test, kubeconfig: ~/.kube/test.yaml}
type Config struct {
	// DefaultZone is the zone of commands that name none (kubectl dora zones use).
	DefaultZone string `json:"defaultZone,omitempty"`
	// UsernamePrefix is stripped from the Kubernetes user name to find the Dora user, as the
	// manager's --username-prefix.
	UsernamePrefix string `json:"usernamePrefix,omitempty"`
	// Zones maps each zone to a kubeconfig context.
	Zones map[string]ZoneConfig `json:"zones,omitempty"`

	// path is where the file was read from, and is written to.
	path string
}

// ZoneConfig is how to reach one zone.
type ZoneConfig struct {
	// Context is the kubeconfig context of the zone's cluster; default: the zone's name.
	Context string `json:"context,omitempty"`
	// Kubeconfig is the kubeconfig file holding the context; default: kubectl's own
	// (--kubeconfig, $KUBECONFIG, ~/.kube/config).
	Kubeconfig string `json:"kubeconfig,omitempty"`
}

// ConfigPath is where the config file is, given the environment.
func ConfigPath(getenv func(string) string) string {
	if p := getenv(EnvConfig); p != "" {
		return expandHome(p, getenv)
	}
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "dora", "config.yaml")
	}
	return filepath.Join(getenv("HOME"), ".config", "dora", "config.yaml")
}

func expandHome(p string, getenv func(string) string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		return filepath.Join(getenv("HOME"), strings.TrimPrefix(p, "~"))
	}
	return p
}

// LoadConfig reads the config file at path; a file that does not exist is an empty config.
func LoadConfig(path string) (*Config, error) {
	cfg := &Config{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the dora config: %w", err)
	}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		return nil, fmt.Errorf("reading the dora config %s: %w", path, err)
	}
	for name := range cfg.Zones {
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("the dora config %s names a zone with an empty name", path)
		}
	}
	return cfg, nil
}

// Path is the file the config was read from.
func (c *Config) Path() string { return c.path }

// Save writes the config back to its file, making its directory if needed.
func (c *Config) Save() error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("writing the dora config: %w", err)
	}
	if err := os.WriteFile(c.path, data, 0o600); err != nil {
		return fmt.Errorf("writing the dora config: %w", err)
	}
	return nil
}

// ZoneNames are the configured zones, sorted.
func (c *Config) ZoneNames() []string {
	names := make([]string, 0, len(c.Zones))
	for name := range c.Zones {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Zone is a zone and how to reach it.
type Zone struct {
	// Name is the zone's name, as documents' metadata.zone and -z give it.
	Name string
	// Context is its kubeconfig context.
	Context string
	// Kubeconfig is the kubeconfig file, when the zone has its own; empty: kubectl's.
	Kubeconfig string
}

// UnknownZoneError says a zone is neither configured nor a kubeconfig context.
type UnknownZoneError struct {
	Name       string
	Configured []string
	Contexts   []string
	ConfigPath string
}

func (e *UnknownZoneError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown zone %q", e.Name)
	switch {
	case len(e.Configured) > 0:
		fmt.Fprintf(&b, "; the zones are %s (from %s)", strings.Join(e.Configured, ", "), e.ConfigPath)
	default:
		fmt.Fprintf(&b, "; no zones are configured in %s", e.ConfigPath)
	}
	var others []string
	for _, c := range e.Contexts {
		if !slices.Contains(e.Configured, c) {
			others = append(others, c)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, ", and these kubeconfig contexts can be used as zones of their name: %s", strings.Join(others, ", "))
	}
	if near := Nearest(e.Name, append(slices.Clone(e.Configured), others...)); near != "" {
		fmt.Fprintf(&b, "; did you mean %q?", near)
	}
	b.WriteString("; add one with: kubectl dora zones set NAME --context CONTEXT")
	return b.String()
}

// ResolveZone finds how to reach the zone name: its entry in the config, else the
// kubeconfig context of that name.
func (c *Config) ResolveZone(name string, contexts []string) (Zone, error) {
	if z, ok := c.Zones[name]; ok {
		ctx := z.Context
		if ctx == "" {
			ctx = name
		}
		return Zone{Name: name, Context: ctx, Kubeconfig: expandHome(z.Kubeconfig, os.Getenv)}, nil
	}
	if slices.Contains(contexts, name) {
		return Zone{Name: name, Context: name}, nil
	}
	sorted := slices.Clone(contexts)
	sort.Strings(sorted)
	return Zone{}, &UnknownZoneError{Name: name, Configured: c.ZoneNames(), Contexts: sorted, ConfigPath: c.path}
}

// ZoneOfContext is the zone a kubeconfig context is: the configured zone using it (of
// kubectl's own kubeconfig), else the context's own name.
func (c *Config) ZoneOfContext(context string) Zone {
	for _, name := range c.ZoneNames() {
		z := c.Zones[name]
		if z.Kubeconfig == "" && (z.Context == context || z.Context == "" && name == context) {
			return Zone{Name: name, Context: context}
		}
	}
	return Zone{Name: context, Context: context}
}

// ZoneSelection is what decides the zone of a command that works in one zone.
type ZoneSelection struct {
	// Flag is -z/--zone.
	Flag string
	// ContextFlag is --context.
	ContextFlag string
	// CurrentContext is the kubeconfig's current context.
	CurrentContext string
	// UserDefault returns the caller's Dora User's spec.default.zone ("" when there is
	// none, or no User); it is asked only when nothing before it decides.
	UserDefault func() string
}

// SelectZone decides the zone, in this order: -z; --context (the zone using that context);
// the config's defaultZone (kubectl dora zones use); the caller's Dora User's default zone;
// the kubeconfig's current context. It says which decided, for messages.
func (c *Config) SelectZone(sel ZoneSelection, contexts []string) (Zone, string, error) {
	switch {
	case sel.Flag != "":
		z, err := c.ResolveZone(sel.Flag, contexts)
		if err == nil && sel.ContextFlag != "" && sel.ContextFlag != z.Context {
			return Zone{}, "", fmt.Errorf("--zone %s is context %s, and --context says %s: give one of the two", z.Name, z.Context, sel.ContextFlag)
		}
		return z, "--zone", err
	case sel.ContextFlag != "":
		return c.ZoneOfContext(sel.ContextFlag), "--context", nil
	case c.DefaultZone != "":
		z, err := c.ResolveZone(c.DefaultZone, contexts)
		return z, "defaultZone of " + c.path, err
	}
	if sel.UserDefault != nil {
		if name := sel.UserDefault(); name != "" {
			z, err := c.ResolveZone(name, contexts)
			return z, "your Dora user's spec.default.zone", err
		}
	}
	if sel.CurrentContext == "" {
		return Zone{}, "", errors.New("no zone: give -z ZONE, set a default with kubectl dora zones use ZONE, or set a current kubeconfig context")
	}
	return c.ZoneOfContext(sel.CurrentContext), "the current kubeconfig context", nil
}
