package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// gpuPod asks for GPUs of one model the way Dora workloads will: an nvidia.com/gpu limit and
// required node affinity on the gpu-feature-discovery product label.
func gpuPod(namespace, name, product string, gpus int64) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "main",
				Image: "ubuntu",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
					gpu.ResourceName: *resource.NewQuantity(gpus, resource.DecimalSI),
				}},
			}},
			Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{
						Key: gpu.LabelProduct, Operator: corev1.NodeSelectorOpIn, Values: []string{gpu.ProductLabel(product)},
					}},
				}}},
			}},
		},
	}
}

func newNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), ns) })
}

// A pod asking for 2 GPUs of one model lands on a fake node of that model and runs.
func TestPodWithTwoGPUsRunsOnANodeOfItsModel(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	newNamespace(t, "e2e-gpu")

	pod := gpuPod("e2e-gpu", "two-v100", "Tesla V100-SXM2-16GB", 2)
	g.Expect(k8sClient.Create(ctx, pod)).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
	}).WithTimeout(60*time.Second).Should(Succeed(), "the pod should be scheduled and Running")

	node := &corev1.Node{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, node)).To(Succeed())
	g.Expect(node.Labels).To(HaveKeyWithValue(gpu.LabelProduct, "Tesla-V100-SXM2-16GB"),
		"the pod landed on %s, which is not a V100 node", node.Name)
	g.Expect(strings.HasPrefix(node.Name, "v100-")).To(BeTrue())
}

// A pod asking for more GPUs than any node has waits, and the scheduler says why.
func TestPodWithTooManyGPUsIsUnschedulable(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	newNamespace(t, "e2e-toomany")

	pod := gpuPod("e2e-toomany", "sixteen-h100", "NVIDIA H100 80GB HBM3", 16)
	g.Expect(k8sClient.Create(ctx, pod)).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		var cond *corev1.PodCondition
		for i := range pod.Status.Conditions {
			if pod.Status.Conditions[i].Type == corev1.PodScheduled {
				cond = &pod.Status.Conditions[i]
			}
		}
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Reason).To(Equal(corev1.PodReasonUnschedulable))
		g.Expect(cond.Message).To(ContainSubstring("Insufficient nvidia.com/gpu"))
	}).WithTimeout(60*time.Second).Should(Succeed(), "the scheduler should report the pod unschedulable for lack of GPUs")
	g.Expect(pod.Spec.NodeName).To(BeEmpty())
}
