package integration

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// Every sample in config/samples (the seed's examples as custom resources) is accepted, the
// Workloads and Volumes once the manager has made their workspaces' namespaces.
func TestSamplesAreAccepted(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	applied, err := simcluster.ApplyDir(ctx, k8sClient, filepath.Join("..", "..", "config", "samples"))
	t.Cleanup(func() {
		for _, obj := range applied {
			_ = k8sClient.Delete(ctx, obj)
		}
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(applied).To(HaveLen(14), "applied:\n%s", simcluster.Summary(applied))

	// The clone sample, applied once its source exists.
	clone, err := simcluster.ApplyDir(ctx, k8sClient, filepath.Join("..", "..", "config", "samples", "clone"))
	t.Cleanup(func() {
		for _, obj := range clone {
			_ = k8sClient.Delete(ctx, obj)
		}
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(clone).To(HaveLen(1), "applied:\n%s", simcluster.Summary(clone))
}
