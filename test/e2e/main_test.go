// Package e2e runs end-to-end tests on the simulated GPU cluster (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler and kwok fake GPU nodes) with the Dora manager
// running in the test process.
package e2e

import (
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
	"github.com/dora-hpc/dora-operator/test/harness"
)

var k8sClient client.Client

func TestMain(m *testing.M) {
	opts := simcluster.Options{Fleet: simcluster.DefaultFleet(), NodePortRange: "20000-32767"}
	os.Exit(harness.Main(m.Run, opts, "dc-rov-01", func(env *harness.Env) { k8sClient = env.Client }))
}
