// Package integration tests what the API server owns (CRD schemas, CEL rules, admission
// webhooks, owner references) and the controllers against a real kube-apiserver and etcd,
// with no scheduler, controllers or nodes (envtest).
package integration

import (
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
	"github.com/dora-hpc/dora-operator/test/harness"
)

var (
	testEnv   *harness.Env
	k8sClient client.Client
)

func TestMain(m *testing.M) {
	opts := simcluster.Options{APIServerOnly: true}
	os.Exit(harness.Main(m.Run, opts, "dc-rov-01", func(env *harness.Env) { testEnv, k8sClient = env, env.Client }))
}
