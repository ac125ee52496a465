package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"sync"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/naming"
)

// FieldManager is who the plugin's writes are recorded as (server-side apply, patches).
const FieldManager = "kubectl-dora"

// Env is what every command shares: the streams, kubectl's connection flags (--kubeconfig,
// --context, -n, --as...), the zone and workspace flags, and, made when first needed, the
// plugin config, the kubeconfig, one Session per zone and the caller's identity.
type Env struct {
	// IO are the command's streams.
	IO genericiooptions.IOStreams
	// Kube are kubectl's connection flags.
	Kube *genericclioptions.ConfigFlags
	// ZoneFlag is -z/--zone.
	ZoneFlag string
	// WorkspaceFlag is -g/--group or --workspace.
	WorkspaceFlag string
	// Getenv reads the environment (os.Getenv; tests replace it).
	Getenv func(string) string

	mu       sync.Mutex
	config   *Config
	raw      *clientcmdapi.Config
	sessions map[string]*Session
}

// NewEnv is an Env on streams, with kubectl's flags unset.
func NewEnv(streams genericiooptions.IOStreams) *Env {
	return &Env{
		IO:       streams,
		Kube:     genericclioptions.NewConfigFlags(true),
		Getenv:   os.Getenv,
		sessions: map[string]*Session{},
	}
}

// Config is the plugin's config file, read once.
func (e *Env) Config() (*Config, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.config != nil {
		return e.config, nil
	}
	cfg, err := LoadConfig(ConfigPath(e.Getenv))
	if err != nil {
		return nil, err
	}
	e.config = cfg
	return cfg, nil
}

// kubeconfig is the merged kubeconfig kubectl would use (without the plugin's zones).
func (e *Env) kubeconfig() (*clientcmdapi.Config, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.raw != nil {
		return e.raw, nil
	}
	raw, err := e.Kube.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	e.raw = &raw
	return e.raw, nil
}

// Contexts are the kubeconfig's context names, sorted, and its current context.
func (e *Env) Contexts() ([]string, string, error) {
	raw, err := e.kubeconfig()
	if err != nil {
		return nil, "", err
	}
	names := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, raw.CurrentContext, nil
}

// ResolveZone finds how to reach a zone by name.
func (e *Env) ResolveZone(name string) (Zone, error) {
	cfg, err := e.Config()
	if err != nil {
		return Zone{}, err
	}
	contexts, _, err := e.Contexts()
	if err != nil {
		return Zone{}, err
	}
	return cfg.ResolveZone(name, contexts)
}

// CurrentZone is the zone of a command that works in one zone (see Config.SelectZone),
// and what decided it.
func (e *Env) CurrentZone(ctx context.Context) (Zone, string, error) {
	cfg, err := e.Config()
	if err != nil {
		return Zone{}, "", err
	}
	contexts, current, err := e.Contexts()
	if err != nil {
		return Zone{}, "", err
	}
	contextFlag := ""
	if e.Kube.Context != nil {
		contextFlag = *e.Kube.Context
	}
	sel := ZoneSelection{Flag: e.ZoneFlag, ContextFlag: contextFlag, CurrentContext: current}
	sel.UserDefault = func() string {
		if current == "" {
			return ""
		}
		s, err := e.Session(cfg.ZoneOfContext(current))
		if err != nil {
			return ""
		}
		who, err := s.Identity(ctx)
		if err != nil || who.User == nil || who.User.Spec.Default == nil {
			return ""
		}
		return who.User.Spec.Default.Zone
	}
	return cfg.SelectZone(sel, contexts)
}

// Current is the session of the current zone.
func (e *Env) Current(ctx context.Context) (*Session, error) {
	z, _, err := e.CurrentZone(ctx)
	if err != nil {
		return nil, err
	}
	return e.Session(z)
}

// ConfiguredZones are the zones of the config file; with none configured, the current zone
// alone. Cluster-wide kinds are applied to all of them, and --all-zones reads them all.
func (e *Env) ConfiguredZones(ctx context.Context) ([]Zone, error) {
	cfg, err := e.Config()
	if err != nil {
		return nil, err
	}
	names := cfg.ZoneNames()
	if len(names) == 0 {
		z, _, err := e.CurrentZone(ctx)
		if err != nil {
			return nil, err
		}
		return []Zone{z}, nil
	}
	zones := make([]Zone, 0, len(names))
	for _, name := range names {
		z, err := e.ResolveZone(name)
		if err != nil {
			return nil, err
		}
		zones = append(zones, z)
	}
	return zones, nil
}

// Sessions are the sessions of every configured zone when all is set, else of the
// current zone.
func (e *Env) Sessions(ctx context.Context, all bool) ([]*Session, error) {
	if !all {
		s, err := e.Current(ctx)
		if err != nil {
			return nil, err
		}
		return []*Session{s}, nil
	}
	zones, err := e.ConfiguredZones(ctx)
	if err != nil {
		return nil, err
	}
	sessions := make([]*Session, 0, len(zones))
	for _, z := range zones {
		s, err := e.Session(z)
		if err != nil {
			return nil, err
		}
		sessions = append(sessions, s)
	}
	return sessions, nil
}

// Session is the connection to zone z, made once.
func (e *Env) Session(z Zone) (*Session, error) {
	_, current, _ := e.Contexts()
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.sessions[z.Name]; ok {
		return s, nil
	}
	flags := e.zoneFlags(z, current)
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("zone %s (kubeconfig context %s): %w", z.Name, z.Context, err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "kubectl-dora"
	cfg.QPS, cfg.Burst = 50, 100
	s := &Session{Zone: z, Env: e, Rest: cfg, flags: flags}
	if s.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if s.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if s.Client, err = client.NewWithWatch(cfg, client.Options{Scheme: Scheme()}); err != nil {
		return nil, err
	}
	e.sessions[z.Name] = s
	return s, nil
}

// zoneFlags are kubectl's flags for reaching zone z: its context (and kubeconfig), and the
// caller's identity flags (--as, --as-group, --token...). Flags that name a cluster or a
// user of one kubeconfig (--server, --cluster, --user, certificates) apply only to the
// zone whose context is the one they were given with (--context, else the current one).
func (e *Env) zoneFlags(z Zone, current string) *genericclioptions.ConfigFlags {
	g := e.Kube
	f := genericclioptions.NewConfigFlags(false)
	f.CacheDir = g.CacheDir
	f.KubeConfig = g.KubeConfig
	if z.Kubeconfig != "" {
		f.KubeConfig = &z.Kubeconfig
	}
	f.Context = &z.Context
	f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup = g.Impersonate, g.ImpersonateUID, g.ImpersonateGroup
	f.ImpersonateUserExtra = g.ImpersonateUserExtra
	f.BearerToken, f.Timeout, f.DisableCompression, f.ProxyURL = g.BearerToken, g.Timeout, g.DisableCompression, g.ProxyURL
	given := ""
	if g.Context != nil {
		given = *g.Context
	}
	if z.Kubeconfig == "" && (z.Context == given || given == "" && z.Context == current) {
		f.ClusterName, f.AuthInfoName, f.APIServer, f.TLSServerName = g.ClusterName, g.AuthInfoName, g.APIServer, g.TLSServerName
		f.Insecure, f.CertFile, f.KeyFile, f.CAFile = g.Insecure, g.CertFile, g.KeyFile, g.CAFile
		f.Username, f.Password = g.Username, g.Password
	}
	return f
}

// NamespaceFlag is -n/--namespace, "" when not given.
func (e *Env) NamespaceFlag() string {
	if e.Kube.Namespace == nil {
		return ""
	}
	return *e.Kube.Namespace
}

// WorkspaceNamespace is the namespace of a Dora workspace name, as the translator and the
// manager make it.
func WorkspaceNamespace(workspace string) string {
	name, _ := naming.ObjectName(workspace)
	return naming.WorkspaceNamespace(name)
}

// Outf prints to the command's output. A failed write of the terminal is not worth an
// error of its own: the command's result says what happened.
func (e *Env) Outf(format string, args ...any) { _, _ = fmt.Fprintf(e.IO.Out, format, args...) }

// Outln prints a line to the command's output.
func (e *Env) Outln(args ...any) { _, _ = fmt.Fprintln(e.IO.Out, args...) }

// Errf prints to the command's error stream.
func (e *Env) Errf(format string, args ...any) { _, _ = fmt.Fprintf(e.IO.ErrOut, format, args...) }

// Errln prints a line to the command's error stream.
func (e *Env) Errln(args ...any) { _, _ = fmt.Fprintln(e.IO.ErrOut, args...) }

// Render writes what render produces to the command's output, at once.
func (e *Env) Render(render func(out *bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return err
	}
	_, err := e.IO.Out.Write(b.Bytes())
	return err
}
