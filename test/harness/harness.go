// Package harness starts what the integration and e2e tests run against: a cluster from
// simcluster (API server only, or the full simulated GPU cluster) with the Dora manager
// running in the test process, its webhooks installed and its log beside the components'.
// The manager runs as its own service account with config/rbac's permissions (rbac.go),
// elects itself leader in its namespace, and serves its metrics to authorized readers only.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// Env is a running cluster with the manager in it.
type Env struct {
	Cluster *simcluster.Cluster
	// Client is an uncached administrator client (a client.WithWatch).
	Client client.Client
	// Manager is who the manager runs as: config/rbac's service account, impersonated.
	Manager Identity
	// MetricsAddr is where the running manager serves its metrics (HTTPS, for callers
	// allowed to get /metrics).
	MetricsAddr string

	zone string
	// WorkloadConcurrency, when set, is given to the next StartManager.
	WorkloadConcurrency int
	cancel              context.CancelFunc
	cancelManager       context.CancelFunc
	managerErr          chan error
	managerLog          *os.File
}

// Start starts the cluster described by opts (with the repository's webhook configuration)
// and the manager for zone.
func Start(opts simcluster.Options, zone string) (*Env, error) {
	root, err := simcluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	opts.WebhookDirs = append(opts.WebhookDirs, filepath.Join(root, "config", "webhook"))
	ctx, cancel := context.WithCancel(context.Background())
	env := &Env{cancel: cancel, zone: zone}
	if env.Cluster, err = simcluster.Start(ctx, opts); err != nil {
		cancel()
		return nil, fmt.Errorf("starting the cluster: %w", err)
	}
	if env.managerLog, err = os.Create(filepath.Join(env.Cluster.LogDir, "manager.log")); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(env.managerLog)))

	if env.Client, err = client.NewWithWatch(env.Cluster.Config, client.Options{Scheme: manager.Scheme()}); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	if env.Manager, err = installManagerRBAC(ctx, env.Client, root); err != nil {
		return nil, errors.Join(fmt.Errorf("installing the manager's RBAC: %w", err), env.Stop())
	}
	if err := env.StartManager(); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return env, nil
}

// StartManager starts a manager (again, after StopManager), as a restarted pod would.
func (e *Env) StartManager() error {
	addr := net.JoinHostPort(e.Cluster.Webhook.LocalServingHost, strconv.Itoa(e.Cluster.Webhook.LocalServingPort))
	// The last manager's webhook server may still be letting go of its port.
	if err := waitFor(func() bool {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			_ = l.Close()
		}
		return err == nil
	}); err != nil {
		return fmt.Errorf("the webhook port %s stayed in use: %w", addr, err)
	}
	metricsPort, err := freePort()
	if err != nil {
		return err
	}
	e.MetricsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(metricsPort))
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(ctx, e.Manager.Config(e.Cluster.Config), manager.Options{
		Zone:                e.zone,
		Namespace:           e.Manager.Namespace,
		LeaderElection:      true,
		MetricsAddr:         e.MetricsAddr,
		MetricsSecure:       true,
		Restartable:         true,
		WorkloadConcurrency: e.WorkloadConcurrency,
		Webhook: &webhook.Options{
			Host:    e.Cluster.Webhook.LocalServingHost,
			Port:    e.Cluster.Webhook.LocalServingPort,
			CertDir: e.Cluster.Webhook.LocalServingCertDir,
		},
	})
	if err != nil {
		cancel()
		return fmt.Errorf("building the manager: %w", err)
	}
	e.cancelManager = cancel
	e.managerErr = make(chan error, 1)
	go func() { e.managerErr <- mgr.Start(ctx) }()
	// Objects of every Dora kind pass its webhooks: return once they are served.
	if err := waitFor(func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err == nil
	}); err != nil {
		return errors.Join(fmt.Errorf("the webhook server did not listen on %s: %w", addr, err), e.StopManager())
	}
	return nil
}

// As is a client of the cluster acting as the Kubernetes user name (impersonated by the
// admin), an authenticated user with no other group, as a researcher's kubeconfig would be.
func (e *Env) As(name string) (client.Client, error) {
	cfg := rest.CopyConfig(e.Cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: []string{"system:authenticated"}}
	return client.New(cfg, client.Options{Scheme: manager.Scheme()})
}

// freePort is a TCP port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls done every 50 ms for up to 30 s.
func waitFor(done func() bool) error {
	return wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return done(), nil })
}

// StopManager stops the manager at once, wherever it is, and waits until it has stopped.
func (e *Env) StopManager() error {
	if e.cancelManager == nil {
		return nil
	}
	e.cancelManager()
	e.cancelManager = nil
	return <-e.managerErr
}

// Stop stops the manager and the cluster.
func (e *Env) Stop() error {
	e.cancel()
	errs := []error{e.StopManager()}
	if e.Cluster != nil {
		errs = append(errs, e.Cluster.Stop())
	}
	if e.managerLog != nil {
		errs = append(errs, e.managerLog.Close())
	}
	return errors.Join(errs...)
}

// Main is a TestMain body: it starts the environment, runs the tests and stops it. On a
// failure it says where the component logs are.
func Main(run func() int, opts simcluster.Options, zone string, started func(*Env)) int {
	env, err := Start(opts, zone)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	started(env)
	code := run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, "component and manager logs:", env.Cluster.LogDir, "(kept only with DORA_KEEP_SIMCLUSTER=1)")
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping:", err)
	}
	return code
}
