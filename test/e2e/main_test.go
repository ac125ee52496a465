// Package e2e runs end-to-end tests on the simulated GPU cluster (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler and kwok fake GPU nodes) with the Dora manager
// running in the test process.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

var (
	cluster   *simcluster.Cluster
	k8sClient client.Client
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(false)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	root, err := simcluster.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cluster, err = simcluster.Start(ctx, simcluster.Options{
		Fleet:         simcluster.DefaultFleet(),
		WebhookDirs:   []string{filepath.Join(root, "config", "webhook")},
		NodePortRange: "20000-32767",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the simulated cluster:", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the simulated cluster:", err)
		}
	}()

	mgr, err := manager.New(ctx, cluster.Config, manager.Options{
		Zone: "dc-rov-01",
		Webhook: &webhook.Options{
			Host:    cluster.Webhook.LocalServingHost,
			Port:    cluster.Webhook.LocalServingPort,
			CertDir: cluster.Webhook.LocalServingCertDir,
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the manager:", err)
		return 1
	}
	k8sClient, err = client.New(cluster.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, "component logs were in", cluster.LogDir, "(set DORA_KEEP_SIMCLUSTER=1 to keep them)")
	}
	return code
}
