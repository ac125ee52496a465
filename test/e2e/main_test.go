// Package e2e runs end-to-end tests on the simulated GPU cluster (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler and kwok fake GPU nodes, each with a node agent on
// a mock NVML) with the Dora manager running in the test process.
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
	"github.com/dora-hpc/dora-operator/test/harness"
)

var (
	testEnv   *harness.Env
	k8sClient client.Client
	fleet     = simcluster.DefaultFleet()
)

func TestMain(m *testing.M) {
	ctx, stopAgents := context.WithCancel(context.Background())
	opts := simcluster.Options{Fleet: fleet, NodePortRange: "20000-32767"}
	code := harness.Main(func() int {
		defer stopAgents()
		return m.Run()
	}, opts, "dc-rov-01", func(env *harness.Env) {
		testEnv, k8sClient = env, env.Client
		if err := simcluster.StartAgents(ctx, env.Client, fleet, "dora-system"); err != nil {
			fmt.Fprintln(os.Stderr, "starting the node agents:", err)
			os.Exit(1)
		}
	})
	os.Exit(code)
}
