// Package install proves the Helm chart charts/dora-operator on the simulated GPU cluster,
// as an administrator would use it: `helm install` with the chart's defaults (the manager's
// self-managed webhook certificate), the manager and the node agents running with exactly
// the chart's identities and permissions, the API server reaching the webhooks through the
// chart's Service with TLS verified as in a real cluster, a replica failing over, `helm
// upgrade` and `helm uninstall`.
//
// The simulated cluster runs no Deployment, DaemonSet or EndpointSlice controller and kwok
// runs no real containers, so the test plays the manager's pods itself: it starts
// `spec.replicas` processes of cmd/manager with the chart Deployment's arguments (see
// replica), and publishes their addresses in EndpointSlices of the webhook Service. The
// API server runs with --enable-aggregator-routing, so that it calls a webhook Service at
// one of its ready endpoints (the kube-aggregator resolver) rather than at its cluster IP,
// which nothing routes here.
package install

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/simcluster"
	"github.com/dora-hpc/dora-operator/test/harness"
)

const (
	// release is the Helm release: its objects are named dora-... (the chart's fullname).
	release = "dora"
	// namespace is the release's namespace, the manager's and the agents'.
	namespace = "dora-system"
	zone      = "dc-rov-01"
	// gpuProduct is the model of the fleet's GPU nodes.
	gpuProduct = "Tesla V100-SXM2-16GB"
)

var (
	cluster *simcluster.Cluster
	// admin is an uncached cluster-administrator client.
	admin client.WithWatch
	// managerBin is cmd/manager, built for this run.
	managerBin string
	// hostIP is this machine's address, where the manager replicas listen.
	hostIP net.IP
	// workDir holds the binary, the kubeconfigs, Helm's home and the replicas' files.
	workDir string
	// fleet is two GPU nodes and a CPU node (where the NFS helper Jobs prefer to run).
	fleet = simcluster.Fleet{
		{Name: "v100", Count: 2, GPUProduct: gpuProduct, GPUs: 8, GPUMemoryMiB: 16384, CPUs: 40, MemoryGiB: 512, CPUProduct: "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"},
		{Name: "cpu", Count: 1, CPUs: 64, MemoryGiB: 256, CPUProduct: "AMD EPYC 7543 32-Core Processor"},
	}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		return 1
	}
	code := m.Run()
	if code != 0 && cluster != nil {
		fmt.Fprintln(os.Stderr, "component and manager replica logs:", cluster.LogDir, "(kept only with DORA_KEEP_SIMCLUSTER=1)")
	}
	stop()
	return code
}

// start builds the manager while the cluster starts: no CRDs (the chart installs them), the
// fleet, and the API server routing to webhook Services through their EndpointSlices.
func start() error {
	var err error
	if hostIP, err = simcluster.HostIPv4(); err != nil {
		return err
	}
	if workDir, err = os.MkdirTemp("", "dora-install-"); err != nil {
		return err
	}
	ctx := context.Background()
	built := make(chan error, 1)
	go func() {
		bin, err := harness.BuildManager(ctx, workDir)
		managerBin = bin
		built <- err
	}()
	cluster, err = simcluster.Start(ctx, simcluster.Options{
		CRDDirs:             []string{},
		Fleet:               fleet,
		ExtraAPIServerFlags: map[string]string{"enable-aggregator-routing": "true"},
	})
	if err := errors.Join(err, <-built); err != nil {
		return err
	}
	if admin, err = client.NewWithWatch(cluster.Config, client.Options{Scheme: manager.Scheme()}); err != nil {
		return err
	}
	// The node agents run in this process: their log beside the components'.
	agentLog, err := os.Create(filepath.Join(cluster.LogDir, "agents.log"))
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(agentLog)))
	return nil
}

func stop() {
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the cluster:", err)
		}
	}
	if workDir != "" {
		_ = os.RemoveAll(workDir)
	}
}
