// Package harness starts what the integration and e2e tests run against: a cluster from
// simcluster (API server only, or the full simulated GPU cluster) with the Dora manager
// running in the test process, its webhooks installed and its log beside the components'.
package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

	cancel     context.CancelFunc
	managerErr chan error
	managerLog *os.File
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
	env := &Env{cancel: cancel}
	if env.Cluster, err = simcluster.Start(ctx, opts); err != nil {
		cancel()
		return nil, fmt.Errorf("starting the cluster: %w", err)
	}
	if env.managerLog, err = os.Create(filepath.Join(env.Cluster.LogDir, "manager.log")); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(env.managerLog)))

	mgr, err := manager.New(ctx, env.Cluster.Config, manager.Options{
		Zone: zone,
		Webhook: &webhook.Options{
			Host:    env.Cluster.Webhook.LocalServingHost,
			Port:    env.Cluster.Webhook.LocalServingPort,
			CertDir: env.Cluster.Webhook.LocalServingCertDir,
		},
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("building the manager: %w", err), env.Stop())
	}
	if env.Client, err = client.NewWithWatch(env.Cluster.Config, client.Options{Scheme: manager.Scheme()}); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	env.managerErr = make(chan error, 1)
	go func() { env.managerErr <- mgr.Start(ctx) }()
	return env, nil
}

// Stop stops the manager and the cluster.
func (e *Env) Stop() error {
	e.cancel()
	var errs []error
	if e.managerErr != nil {
		errs = append(errs, <-e.managerErr)
	}
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
